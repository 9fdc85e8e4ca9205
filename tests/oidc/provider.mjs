// A real OpenID Connect provider on loopback for the sign-in tests: the npm package
// oidc-provider (a certified implementation), with a login page of its own standing in
// for the trust's Microsoft or Google sign-in.
//
// Usage: node tests/oidc/provider.mjs CONFIG.json
// CONFIG: {"port": N, "issuer": "http://127.0.0.1:N", "clients": [...],
//          "clockOffsetSeconds": 0, "tamper": null}
// "tamper" makes it a provider that misbehaves at its token endpoint: {"aud": ...} or
// {"nonce": ...} re-signs the ID token with its own published key after changing that
// claim; {"unsigned": true} sends it with "alg": "none" and no signature.
// Prints "ready" on a line of its own once it listens.
//
// The login page asks for the e-mail address to sign in as, and lets the test say what
// the provider asserts about it: whether the address is verified and whether the person
// passed the provider's multi-factor step (amr "mfa"). What a real provider decides
// itself, the tester decides here; everything else (discovery, keys, PKCE, state, nonce,
// codes, signed ID tokens) is the library's own.

import { createHash, generateKeyPairSync, sign } from "node:crypto";
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

// The provider's signing key, published at its jwks_uri, kept here too so that a
// tampering run can sign what it changed with the key the app trusts.
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: "jwk" }), kid: "tests", use: "sig", alg: "RS256" };

const b64 = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
const unb64 = (part) => JSON.parse(Buffer.from(part, "base64url").toString());

function tampered(idToken, tamper) {
  const [header, payload] = idToken.split(".").map((part, i) => (i < 2 ? unb64(part) : part));
  Object.assign(payload, tamper.aud ? { aud: tamper.aud } : {}, tamper.nonce ? { nonce: tamper.nonce } : {});
  if (tamper.unsigned) return `${b64({ alg: "none", typ: "JWT" })}.${b64(payload)}.`;
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign("sha256", Buffer.from(input), privateKey).toString("base64url")}`;
}

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
  jwks: { keys: [signingKey] },
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

// Rewrite the token endpoint's answer on its way out (only when told to tamper).
function intercept(res, tamper) {
  const chunks = [];
  const end = res.end.bind(res);
  res.write = (chunk) => { chunks.push(Buffer.from(chunk)); return true; };
  res.end = (chunk) => {
    if (chunk) chunks.push(Buffer.from(chunk));
    let body = Buffer.concat(chunks).toString();
    const answer = JSON.parse(body);
    if (answer.id_token) answer.id_token = tampered(answer.id_token, tamper);
    body = JSON.stringify(answer);
    res.setHeader("Content-Length", Buffer.byteLength(body));
    return end(body);
  };
}

const callback = provider.callback();
const server = createServer(async (req, res) => {
  const match = req.url.match(/^\/interaction\/([\w-]+)(\/login)?$/);
  if (!match) {
    if (req.url.startsWith("/token")) {
      clockOff = true;
      res.on("close", () => { clockOff = false; });
      if (config.tamper) intercept(res, config.tamper);
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
