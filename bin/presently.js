#!/usr/bin/env node
// The `presently` command: runs the JavaScript that `tsc` compiled from src/ into dist/ (`npm run build`; in a clone,
// `npm install` runs it through the `prepare` script, and `npm pack` before packing).
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(`presently: ${main.pathname} is missing: build it with \`npm run build\` (npm install runs it)\n`);
  process.exit(1);
}
await import(main.href);
