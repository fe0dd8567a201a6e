/**
 * How the person who started this process runs Presently's commands, for the hints it prints: `npm run -s presently --`
 * and `npm start` in a clone (started by the package's own npm scripts), `npx presently` when npx started it (a
 * package installed in a folder, or a tarball), else `presently` (installed globally, or the container's command).
 */
export interface Invocation {
  /** Prefix of a command: `${run} token --user …`. */
  run: string;
  /** The command that starts the server. */
  serve: string;
}

export function invocation(env: NodeJS.ProcessEnv = process.env): Invocation {
  const ownScript = env.npm_package_name === 'presently' && (env.npm_lifecycle_event === 'start' || env.npm_lifecycle_event === 'presently');
  // -s: npm prints nothing of its own, so `TOKEN=$(npm run -s presently -- token …)` captures the token alone.
  if (ownScript) return { run: 'npm run -s presently --', serve: 'npm start' };
  if (env.npm_command === 'exec') return { run: 'npx presently', serve: 'npx presently serve' };
  return { run: 'presently', serve: 'presently serve' };
}
