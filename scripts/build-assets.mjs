// Builds static/dist/ from assets/ and the pinned govuk-frontend package.
// Run by `make` (npm run build); the output is not committed.
//
// Each file is written under a name holding a hash of its contents (app.3f9c2a1b7d04.css),
// so that it can be cached for a year: a changed file gets a new name. Beside each one that
// shrinks, a gzip and a brotli copy are written, which the server sends as they are.
// dist/manifest.json maps the names the templates ask for (url_for('static', ...)) to the
// hashed names (tracker/assets.py reads it). References between the files are rewritten to
// the hashed names too: the stylesheet's url()s and the script's imports. A reference to a
// file the build does not produce fails the build, rather than a 404 in the browser.
//
// A build replaces nothing in place: a file already there under its hashed name holds
// those bytes already, the manifest is swapped in whole, and the files of the build before
// stay. So a server still running with the old manifest (workers not yet restarted after a
// release) goes on serving the pages it sends; older files are removed.
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, posix, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import * as sass from "sass";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const govuk = join(root, "node_modules", "govuk-frontend", "dist");
const staticDir = join(root, "static");
const out = join(staticDir, "dist");

// Where the stylesheet asks for GOV.UK Frontend's images and fonts (app.scss sets it).
const GOVUK_ASSETS_URL = "/static/dist/govuk/";
// Text compresses; images other than SVG and woff2 fonts are compressed already.
const COMPRESSIBLE = /\.(css|m?js|svg|json|txt)$/;

const manifestPath = join(out, "manifest.json");
const previous = existsSync(manifestPath) ? JSON.parse(readFileSync(manifestPath, "utf8")) : {};
mkdirSync(out, { recursive: true });

// Logical name (relative to static/, as url_for names it) -> hashed name (the same).
const manifest = {};

// Written beside, then renamed: a reader never sees half a file, nor a later build a file
// cut short under a name it takes as done.
function writeWhole(path, contents) {
  writeFileSync(`${path}.${process.pid}.part`, contents);
  renameSync(`${path}.${process.pid}.part`, path);
}

function hashedName(name, contents) {
  const digest = createHash("sha256").update(contents).digest("hex").slice(0, 12);
  const { dir, name: stem, ext } = posix.parse(name);
  return posix.join(dir, `${stem}.${digest}${ext}`);
}

// Writes a file with its compressed copies under its hashed name, which is `into` (the name
// in dist/, when the templates' name is elsewhere) with the hash put in, and returns it.
function emit(name, contents, into = name) {
  const hashed = hashedName(into, contents);
  const path = join(staticDir, hashed);
  manifest[name] = hashed;
  if (existsSync(path)) return hashed; // the same name holds the same bytes
  mkdirSync(dirname(path), { recursive: true });
  if (COMPRESSIBLE.test(name)) {
    const gzip = gzipSync(contents, { level: 9 });
    const brotli = brotliCompressSync(contents, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_SIZE_HINT]: contents.length,
      },
    });
    // A copy that saves next to nothing is not worth a second read of the disk.
    if (gzip.length < contents.length * 0.95) writeWhole(`${path}.gz`, gzip);
    if (brotli.length < contents.length * 0.95) writeWhole(`${path}.br`, brotli);
  }
  writeWhole(path, contents); // last: its being there says the copies are there too
  return hashed;
}

// The stylesheet's url()s: each GOV.UK Frontend asset it names is copied under its hashed
// name, and the url() becomes relative to the stylesheet, so it holds wherever /static is.
const cssName = "dist/app.css";
let css = sass.compile(join(root, "assets", "scss", "app.scss"), {
  loadPaths: [govuk],
  style: "compressed",
  quietDeps: true,
}).css;
const assetNames = {};
css = css.replace(/url\(\s*(["']?)([^"')]+)\1\s*\)/g, (whole, quote, url) => {
  if (url.startsWith("data:")) return whole;
  if (!url.startsWith(GOVUK_ASSETS_URL)) {
    throw new Error(`app.css refers to ${url}, which the build does not produce`);
  }
  const asset = url.slice(GOVUK_ASSETS_URL.length).split(/[?#]/)[0];
  const source = join(govuk, "govuk", "assets", asset);
  if (!existsSync(source)) throw new Error(`app.css refers to ${url}: no ${source}`);
  const name = `dist/govuk/${asset}`;
  assetNames[name] ??= emit(name, readFileSync(source));
  return `url("${posix.relative(posix.dirname(cssName), assetNames[name])}")`;
});
emit(cssName, Buffer.from(css));

// The scripts: GOV.UK Frontend first, so that app.js imports it by its hashed name. Both
// are ES modules named .js, which every server sends as JavaScript (a browser runs a module
// only when it is sent so; nginx 1.22's types leave .mjs as an unknown type).
const scripts = [
  ["dist/govuk-frontend.min.js", join(govuk, "govuk", "govuk-frontend.min.js")],
  ["dist/app.js", join(root, "assets", "js", "app.mjs")],
];
for (const [name, source] of scripts) {
  // The source map is not shipped, so the comment naming it goes (a 404 in the developer tools).
  const code = readFileSync(source, "utf8").replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, "\n");
  const text = code.replace(
    /(\bfrom\s*|\bimport\s*\(?\s*)(["'])(\.\/[^"']+)\2/g,
    (whole, keyword, quote, specifier) => {
      const target = posix.join(posix.dirname(name), specifier);
      if (!manifest[target]) throw new Error(`${name} imports ${specifier}, not built before it`);
      const hashed = `./${posix.relative(posix.dirname(name), manifest[target])}`;
      return `${keyword}${quote}${hashed}${quote}`;
    },
  );
  emit(name, Buffer.from(text));
}

// The templates' own images, kept in static/images/.
const favicon = readFileSync(join(staticDir, "images", "favicon.svg"));
emit("images/favicon.svg", favicon, "dist/images/favicon.svg");

writeWhole(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);

// Everything but this build's files and the last build's goes (plain names from an older
// build among them).
const keep = new Set([...Object.values(manifest), ...Object.values(previous)]);
function sweep(folder) {
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      sweep(path);
      if (readdirSync(path).length === 0) rmdirSync(path);
      continue;
    }
    const name = relative(staticDir, path).split(sep).join("/");
    const inUse = keep.has(name.replace(/\.(gz|br)$/, ""));
    // A .part is another build's file on its way in.
    if (path === manifestPath || inUse || name.endsWith(".part")) continue;
    rmSync(path);
  }
}
sweep(out);
console.log(`built ${out}`);
