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
const ENTRY = "src/app/main.js";
const STYLE = "src/app/app.css";
const TEMPLATE = "index.html";
const BUNDLE = "app.js";
const SCRIPT_TAG = '<script type="module" src="app.js"></script>';
export const MANIFEST = "manifest.json";
export const MANIFEST_FORMAT = "votestore-web-bundle/v1";

/** The esbuild options: every one that shapes the bytes, fixed. */
export const OPTIONS = Object.freeze({
  absWorkingDir: WEB,
  entryPoints: [ENTRY],
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
  outfile: BUNDLE,
  define: { "process.env.NODE_ENV": '"production"' },
});

/** @param {Uint8Array} bytes */
function digests(bytes) {
  return {
    sha256: createHash("sha256").update(bytes).digest("hex"),
    integrity: `sha384-${createHash("sha384").update(bytes).digest("base64")}`,
  };
}

/** @param {string} integrity */
function indexHtml(integrity) {
  const template = readFileSync(join(WEB, TEMPLATE), "utf8");
  if (template.split(SCRIPT_TAG).length !== 2) {
    throw new Error(`${TEMPLATE} must hold exactly one ${SCRIPT_TAG}`);
  }
  return template.replace(
    SCRIPT_TAG,
    `<script type="module" src="app.js" integrity="${integrity}" crossorigin="anonymous"></script>`,
  );
}

/**
 * Build into `out` (emptied first): app.js, app.css, index.html, manifest.json.
 * @param {string} out
 */
export async function buildPage(out) {
  const result = await build({ ...OPTIONS, entryPoints: [...OPTIONS.entryPoints] });
  if (result.outputFiles.length !== 1) {
    throw new Error(`esbuild wrote ${result.outputFiles.length} files, expected one bundle`);
  }
  const bundle = result.outputFiles[0].contents;
  const text = Buffer.from(bundle).toString("utf8");
  if (text.includes(WEB)) {
    throw new Error(`the bundle names the build folder ${WEB}: not reproducible elsewhere`);
  }
  const bundleDigests = digests(bundle);
  const files = new Map([
    [BUNDLE, bundle],
    ["app.css", readFileSync(join(WEB, STYLE))],
    ["index.html", Buffer.from(indexHtml(bundleDigests.integrity), "utf8")],
  ]);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const listed = [];
  for (const name of [...files.keys()].sort()) {
    const bytes = /** @type {Uint8Array} */ (files.get(name));
    writeFileSync(join(out, name), bytes);
    listed.push({ file: name, ...digests(bytes), bytes: bytes.length });
  }
  const manifest = { format: MANIFEST_FORMAT, bundle: BUNDLE, app_bundle_sha256: bundleDigests.sha256, files: listed };
  writeFileSync(join(out, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = resolve(process.argv[2] ?? join(WEB, "dist"));
  const manifest = await buildPage(out);
  process.stdout.write(`${out}: app_bundle_sha256 ${manifest.app_bundle_sha256}\n`);
}
