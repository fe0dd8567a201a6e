/**
 * `--log-format pretty`: pino's JSON lines turned into one readable line each, for people watching a terminal
 * (`16:50:01.123 WARN  webhook validation handshake failed reqId=… url=…`). The default, JSON, is for machines.
 */
import { Writable } from 'node:stream';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
const COLOURS: Record<number, string> = { 10: '90', 20: '90', 30: '32', 40: '33', 50: '31', 60: '31;1' };
/** pino's own fields, shown in the line's head or not at all. */
const HEAD = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'v']);

function value(v: unknown): string {
  if (typeof v === 'string') return /\s/.test(v) ? JSON.stringify(v) : v;
  if (v !== null && typeof v === 'object' && 'message' in v && 'stack' in v) return JSON.stringify((v as { message: unknown }).message);
  return JSON.stringify(v);
}

/** One JSON log line as a readable line; a line that is not JSON is returned as it is. */
export function prettyLine(json: string, colour: boolean): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const level = Number(entry.level);
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString().slice(11, 23) : '';
  const name = LEVELS[level] ?? String(entry.level);
  const head = colour && COLOURS[level] ? `\x1b[${COLOURS[level]}m${name}\x1b[0m` : name;
  const rest = Object.entries(entry).filter(([k]) => !HEAD.has(k)).map(([k, v]) => `${k}=${value(v)}`);
  return [time, head, String(entry.msg ?? ''), ...rest].filter((s) => s !== '').join(' ');
}

/** A stream for pino that writes pretty lines to `out`. */
export function prettyStream(out: NodeJS.WritableStream & { isTTY?: boolean }): Writable {
  const colour = out.isTTY === true && !process.env.NO_COLOR;
  let buffered = '';
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) if (line !== '') out.write(`${prettyLine(line, colour)}\n`);
      done();
    },
  });
}
