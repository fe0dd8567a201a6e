/** Presently's version, from package.json: what `--version`, `/_presently/info` and the start-up line print. */
import { readFileSync } from 'node:fs';

export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
