/**
 * The source files under a folder, for the architecture tests (test/architecture/) that read the code itself.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** Every file under `dir` whose name matches `names` (TypeScript by default), at any depth. */
export function sourceFiles(dir: string, names: RegExp = /\.ts$/): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? sourceFiles(full, names) : names.test(full) ? [full] : [];
  });
}
