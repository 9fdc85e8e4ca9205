// A real OpenID Connect provider on loopback for the sign-in tests: the npm package
// oidc-provider (a certified implementation), with a login page of its own standing in
// for the trust's Microsoft or Google sign-in.
//
// Usage: node tests/oidc/provider.mjs CONFIG.json
// CONFIG: {"port": N, "issuer": "http://127.0.0.1:N", "clients": [...],
//          "clockOffsetSeconds": 0}
// Prints "ready" on a line of its own once it listens.
//
// The login page asks for the e-mail address to sign in as, and lets the test say what
// the provider asserts about it: whether the address is verified and whether the person
// passed the provider's multi-factor step (amr "mfa"). What a real provider decides
// itself, the tester decides here; everything else (discovery, keys, PKCE, state, nonce,
// codes, signed ID tokens) is the library's own.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import Provider from "oidc-provider";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));

// A provider whose clock is wrong when it issues tokens: they have already expired. Only
// the token endpoint's clock is off, so that its login page's cookies still work.
let clockOff = false;
if (config.clockOffsetSeconds) {
  const realNow = Date.now.bind(Date);
  Date.now = () => realNow() + (clockOff ? config.clockOffsetSeconds * 1000 : 0);
}

const accounts = new Map(); // accountId -> claims, as given on the login page

const provider = new Provider(config.issuer, {
  clients: config.clients,
  claims: {
    openid: ["sub", "acr", "amr", "auth_time"],
    email: ["email", "email_verified"],
    profile: ["name"],
  },
  // The ID token carries the claims (as Entra ID and Google do), not only /userinfo.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  // HS256 only when a test asks a client to sign ID tokens with its secret.
  enabledJWA: {
    idTokenSigningAlgValues: ["RS256", "PS256", "ES256", "HS256"],
  },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  // First-party clients: no consent screen, as a trust's own app registration.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope("openid email profile");
    grant.addOIDCClaims(["email", "email_verified", "name"]);
    await grant.save();
    return grant;
  },
  async findAccount(ctx, id) {
    const claims = accounts.get(id);
    if (!claims) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...claims }) };
  },
  cookies: { keys: ["tracker-tests-oidc-provider-cookie-key"] },
  ttl: { IdToken: 600, AccessToken: 600, Interaction: 600, Session: 600, Grant: 600 },
});
provider.proxy = false;

function page(uid) {
  return `<!doctype html><html lang="en"><head><title>Test identity provider</title><link rel="icon" href="data:,"></head>
<body><h1>Sign in to the test identity provider</h1>
<form method="post" action="/interaction/${uid}/login">
<label for="email">Email address</label> <input id="email" name="email" type="email">
<label><input type="checkbox" name="verified" value="yes" checked> Email address verified</label>
<label><input type="checkbox" name="mfa" value="yes"> Passed multi-factor authentication</label>
<button type="submit">Sign in</button>
</form></body></html>`;
}

async function body(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString());
}

const callback = provider.callback();
const server = createServer(async (req, res) => {
  const match = req.url.match(/^\/interaction\/([\w-]+)(\/login)?$/);
  if (!match) {
    if (req.url.startsWith("/token")) {
      clockOff = true;
      res.on("close", () => { clockOff = false; });
    }
    return callback(req, res);
  }
  try {
    const details = await provider.interactionDetails(req, res);
    if (!match[2]) {
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
      return res.end(page(details.uid));
    }
    const form = await body(req);
    const email = (form.get("email") || "").trim();
    const accountId = createHash("sha256").update(email.toLowerCase()).digest("hex").slice(0, 32);
    accounts.set(accountId, {
      email,
      email_verified: form.get("verified") === "yes",
      name: email.split("@")[0],
    });
    const mfa = form.get("mfa") === "yes";
    return provider.interactionFinished(req, res, {
      login: { accountId, amr: mfa ? ["pwd", "mfa"] : ["pwd"], acr: mfa ? "mfa" : "pwd" },
    }, { mergeWithLastSubmission: false });
  } catch (error) {
    res.writeHead(400, { "Content-Type": "text/plain" });
    return res.end(String(error));
  }
});
server.listen(config.port, "127.0.0.1", () => console.log("ready"));
