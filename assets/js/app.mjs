// Progressive enhancement only: every page works without JavaScript.
import { initAll } from "./govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();

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
