// The voter page's reproducible build (docs/web.md, "The bundle on the ledger").
//
// Anyone with this repository at a given commit and `npm ci` must get the very bytes the
// election definition's `app_bundle_sha256` names, so nothing in the output may depend on the
// machine, the folder or the clock: esbuild runs with every option that shapes the output fixed
// here (no source map, no metafile, legal comments dropped, paths relative to web/), the inputs
// are the files the entry imports (esbuild orders them by the import graph, not by the disk),
// and the outputs are written with no timestamps of their own. The manifest names each file with
// its SHA-256 (hex) and its Subresource Integrity string (sha384), and index.html is generated
// with the bundle's integrity attribute, so a browser runs app.js only if it has those bytes.
//
// Usage: node build/page.mjs [OUT_DIR]   (from web/; OUT_DIR defaults to dist)

import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const WEB = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** The voter page's bundle: the one whose SHA-256 the election definition names. */
const BUNDLE = "app.js";
/**
 * Each page: its entry, the bundle it becomes, its HTML template (holding exactly one
 * `<script type="module" src="BUNDLE"></script>`) and its stylesheet, as [source, output].
 * Another page (a public one) is one more row; its bundle is pinned by its own SRI and CSP.
 */
const PAGES = Object.freeze([
  { entry: "src/app/main.js", bundle: BUNDLE, html: ["index.html", "index.html"], css: ["src/app/app.css", "app.css"] },
  {
    entry: "src/public/main.js",
    bundle: "public.js",
    html: ["src/public/public.html", "public.html"],
    css: ["src/public/public.css", "public.css"],
  },
]);
export const MANIFEST = "manifest.json";
export const MANIFEST_FORMAT = "votestore-web-bundle/v1";

/** The esbuild options: every one that shapes the bytes, fixed. */
export const OPTIONS = Object.freeze({
  absWorkingDir: WEB,
  bundle: true,
  format: "esm",
  target: "es2022",
  platform: "browser",
  charset: "utf8",
  legalComments: "none",
  sourcemap: false,
  minify: false,
  treeShaking: true,
  metafile: false,
  write: false,
  logLevel: "error",
  define: { "process.env.NODE_ENV": '"production"' },
});

/** @param {Uint8Array} bytes */
function digests(bytes) {
  return {
    sha256: createHash("sha256").update(bytes).digest("hex"),
    integrity: `sha384-${createHash("sha384").update(bytes).digest("base64")}`,
  };
}

/**
 * @param {string} template the HTML template's path in web/
 * @param {string} bundle
 * @param {string} integrity
 */
function pageHtml(template, bundle, integrity) {
  const text = readFileSync(join(WEB, template), "utf8");
  const tag = `<script type="module" src="${bundle}"></script>`;
  if (text.split(tag).length !== 2) {
    throw new Error(`${template} must hold exactly one ${tag}`);
  }
  return text.replace(
    tag,
    `<script type="module" src="${bundle}" integrity="${integrity}" crossorigin="anonymous"></script>`,
  );
}

/**
 * One bundle: esbuild with OPTIONS, checked to name no folder of this machine.
 * @param {string} entry
 * @param {string} bundle
 */
async function bundleOf(entry, bundle) {
  const result = await build({ ...OPTIONS, entryPoints: [entry], outfile: bundle });
  if (result.outputFiles.length !== 1) {
    throw new Error(`esbuild wrote ${result.outputFiles.length} files for ${entry}, expected one bundle`);
  }
  const bytes = result.outputFiles[0].contents;
  if (Buffer.from(bytes).toString("utf8").includes(WEB)) {
    throw new Error(`${bundle} names the build folder ${WEB}: not reproducible elsewhere`);
  }
  return bytes;
}

/**
 * Build into `out` (emptied first): app.js, app.css, index.html, manifest.json.
 * @param {string} out
 */
export async function buildPage(out) {
  /** @type {Map<string, Uint8Array>} */
  const files = new Map();
  for (const page of PAGES) {
    const bundle = await bundleOf(page.entry, page.bundle);
    files.set(page.bundle, bundle);
    files.set(page.css[1], readFileSync(join(WEB, page.css[0])));
    files.set(page.html[1], Buffer.from(pageHtml(page.html[0], page.bundle, digests(bundle).integrity), "utf8"));
  }
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const listed = [];
  for (const name of [...files.keys()].sort()) {
    const bytes = /** @type {Uint8Array} */ (files.get(name));
    writeFileSync(join(out, name), bytes);
    listed.push({ file: name, ...digests(bytes), bytes: bytes.length });
  }
  const bundleSha256 = digests(/** @type {Uint8Array} */ (files.get(BUNDLE))).sha256;
  const manifest = { format: MANIFEST_FORMAT, bundle: BUNDLE, app_bundle_sha256: bundleSha256, files: listed };
  writeFileSync(join(out, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = resolve(process.argv[2] ?? join(WEB, "dist"));
  const manifest = await buildPage(out);
  process.stdout.write(`${out}: app_bundle_sha256 ${manifest.app_bundle_sha256}\n`);
}
