/**
 * The curl commands the controls show: the request a form sends, as a user would type it, and the token request
 * that gets its `$TOKEN` (dev mode).
 */

/** A word quoted for a POSIX shell (single quotes; a quote inside becomes '\''). */
export function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

export interface CurlRequest {
  method: string;
  url: string;
  /** The bearer token's shell expression: `$TOKEN`, or the token itself. */
  token?: string;
  /** Other headers, such as the admin key's Authorization. */
  headers?: Record<string, string>;
  body?: unknown;
}

export function curlCommand(req: CurlRequest): string {
  const lines = [`curl -s -X ${req.method} ${shellQuote(req.url)}`];
  const headers: string[] = [];
  if (req.token !== undefined) headers.push(`-H "Authorization: Bearer ${req.token}"`);
  for (const [name, value] of Object.entries(req.headers ?? {})) headers.push(`-H ${shellQuote(`${name}: ${value}`)}`);
  if (req.body !== undefined) headers.push(`-H 'Content-Type: application/json'`);
  if (headers.length) lines.push(headers.join(' '));
  if (req.body !== undefined) lines.push(`-d ${shellQuote(JSON.stringify(req.body))}`);
  return lines.join(' \\\n  ');
}

/** `TOKEN=$(curl … /_presently/tokens … | jq -r .access_token)`: the dev token a form's request is sent with. */
export function tokenCommand(origin: string, body: object, variable = 'TOKEN'): string {
  const mint = curlCommand({ method: 'POST', url: `${origin}/_presently/tokens`, body });
  return `${variable}=$(${mint} | jq -r .access_token)`;
}
