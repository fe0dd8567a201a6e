#!/usr/bin/env node
/**
 * Builds the dashboard (ui/) into dist/ui/: `index.html`, `assets/app.js` (ui/src/main.tsx with Preact, bundled and
 * minified by esbuild) and `assets/app.css` (the stylesheets main.tsx imports, bundled the same way). Nothing is loaded from
 * elsewhere at run time: no CDN, no web fonts. The page names its assets with `?v=<hash of their content>`, so a
 * browser never mixes a cached script with a new page.
 *
 * Run by `npm run build` (which `prepare` runs at `npm install`); `--quiet` prints nothing but errors;
 * `--sourcemap` also writes app.js.map and app.css.map (for development: the package does not ship them).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const UI = join(ROOT, 'ui');
const OUT = join(ROOT, 'dist', 'ui');
const ASSETS = join(OUT, 'assets');
/** Browsers the bundle is written for: those Preact 11 supports, at the least. */
const TARGET = ['chrome100', 'firefox100', 'safari15.4', 'edge100'];

const quiet = process.argv.includes('--quiet');
const sourcemap = process.argv.includes('--sourcemap');

async function bundle() {
  const result = await build({
    entryPoints: { app: join(UI, 'src', 'main.tsx') },
    outdir: ASSETS,
    entryNames: '[name]',
    bundle: true,
    minify: true,
    format: 'esm',
    target: TARGET,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: join(UI, 'tsconfig.json'),
    sourcemap: sourcemap ? 'linked' : false,
    legalComments: 'none',
    logLevel: 'warning',
    write: false,
  });
  return result.outputFiles;
}

function writePage(version) {
  const page = readFileSync(join(UI, 'index.html'), 'utf8').replaceAll('{{VERSION}}', version);
  writeFileSync(join(OUT, 'index.html'), page);
}

function report(files) {
  for (const file of files) {
    if (file.path.endsWith('.map')) continue;
    const name = file.path.slice(OUT.length + 1);
    const gzip = gzipSync(file.contents, { level: 9 }).length;
    console.log(`  dist/ui/${name}  ${(file.contents.length / 1024).toFixed(1)} KB, ${(gzip / 1024).toFixed(1)} KB gzipped`);
  }
}

const files = await bundle();
rmSync(OUT, { recursive: true, force: true });
mkdirSync(ASSETS, { recursive: true });
const hash = createHash('sha256');
for (const file of files) {
  writeFileSync(file.path, file.contents);
  hash.update(file.contents);
}
writePage(hash.digest('hex').slice(0, 12));
if (!quiet) {
  console.log('dashboard built:');
  report(files);
}
