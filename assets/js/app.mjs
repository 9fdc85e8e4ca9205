// Progressive enhancement only: every page works without JavaScript.
import { initAll } from "./govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();

// A file input marked data-app-max-bytes refuses a file over the limit as soon as it is
// chosen, with the Design System's error message on the input (the words come from the
// server, in data-app-too-large), and stops the form being sent with it: a long upload
// would only end in the server's "too large" page. Everything else typed stays as it is.
// This runs before the autosave below, so that a refused send does not count as sent.
for (const input of document.querySelectorAll("input[type=file][data-app-max-bytes]")) {
  const limit = Number(input.dataset.appMaxBytes);
  const group = input.closest(".govuk-form-group");
  const errorId = `${input.id}-too-large`;
  let titled = false; // whether this check put "Error: " before the page's title
  const describedBy = () =>
    (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
  const show = () => {
    if (document.getElementById(errorId)) return;
    const message = document.createElement("p");
    message.id = errorId;
    message.className = "govuk-error-message";
    const prefix = document.createElement("span");
    prefix.className = "govuk-visually-hidden";
    prefix.textContent = "Error:";
    message.append(prefix, ` ${input.dataset.appTooLarge}`);
    input.before(message);
    group?.classList.add("govuk-form-group--error");
    input.classList.add("govuk-file-upload--error");
    input.setAttribute("aria-describedby", [...describedBy(), errorId].join(" "));
    if (!document.title.startsWith("Error: ")) {
      document.title = `Error: ${document.title}`;
      titled = true;
    }
  };
  const clear = () => {
    const message = document.getElementById(errorId);
    if (!message) return;
    message.remove();
    input.setAttribute("aria-describedby", describedBy().filter((id) => id !== errorId).join(" "));
    if (!group?.querySelector(".govuk-error-message")) {
      group?.classList.remove("govuk-form-group--error");
      input.classList.remove("govuk-file-upload--error");
    }
    if (titled) {
      document.title = document.title.replace(/^Error: /, "");
      titled = false;
    }
  };
  const fits = () => {
    const fine = [...input.files].every((file) => file.size <= limit);
    if (fine) clear();
    else show();
    return fine;
  };
  input.addEventListener("change", fits);
  input.form?.addEventListener("submit", (event) => {
    if (fits()) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    input.focus();
  });
}

// A form marked data-app-autosave keeps what is typed a few seconds after the typing
// stops, by posting itself (files left out, with autosave=1) to its own address, which
// keeps it as a draft and answers 204: a session that runs out, or a browser closed by
// mistake, loses at most those few seconds. The form's own buttons work as before.
const AUTOSAVE_AFTER_MS = 3000;

for (const form of document.querySelectorAll("form[data-app-autosave]")) {
  let timer = null;
  let sent = false;
  const save = () => {
    if (sent) return;
    const data = new FormData(form);
    for (const [name, value] of [...data.entries()]) {
      if (value instanceof File) data.delete(name);
    }
    data.set("autosave", "1");
    fetch(form.action || window.location.href, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      redirect: "manual",
    }).catch(() => {});
  };
  const later = () => {
    clearTimeout(timer);
    timer = setTimeout(save, AUTOSAVE_AFTER_MS);
  };
  form.addEventListener("input", later);
  form.addEventListener("change", later);
  form.addEventListener("submit", () => {
    sent = true; // its own button saves it now; a late copy must not bring a draft back
    clearTimeout(timer);
  });
}

// "Go back to the form" on the "too large" page: the browser's own Back, which shows the
// form with what was typed in it, where there is a page of this service to go back to;
// otherwise the link's address, the form afresh.
for (const link of document.querySelectorAll("a[data-app-history-back]")) {
  link.addEventListener("click", (event) => {
    let cameFromHere = false;
    try {
      cameFromHere = new URL(document.referrer).origin === window.location.origin;
    } catch {
      cameFromHere = false;
    }
    if (cameFromHere && window.history.length > 1) {
      event.preventDefault();
      window.history.back();
    }
  });
}

// A form marked data-app-send-shown-only does not send a choice left in a conditional
// reveal that is now hidden (a sanction chosen under one outcome, then another outcome
// chosen): the answer sent is only what the person can see.
for (const form of document.querySelectorAll("form[data-app-send-shown-only]")) {
  form.addEventListener("submit", () => {
    const hidden = form.querySelectorAll(
      ".govuk-radios__conditional--hidden input, .govuk-checkboxes__conditional--hidden input",
    );
    for (const input of hidden) {
      if (input.type === "radio" || input.type === "checkbox") input.checked = false;
    }
  });
}
