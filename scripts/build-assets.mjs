// Builds static/dist/ from assets/ and the pinned govuk-frontend package.
// Run by `make` (npm run build); the output is not committed.
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as sass from "sass";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const govuk = join(root, "node_modules", "govuk-frontend", "dist");
const out = join(root, "static", "dist");

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const css = sass.compile(join(root, "assets", "scss", "app.scss"), {
  loadPaths: [govuk],
  style: "compressed",
  quietDeps: true,
});
writeFileSync(join(out, "app.css"), css.css);

cpSync(join(govuk, "govuk", "govuk-frontend.min.js"), join(out, "govuk-frontend.min.js"));
cpSync(join(root, "assets", "js", "app.mjs"), join(out, "app.mjs"));
console.log(`built ${out}`);
