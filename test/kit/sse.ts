/**
 * A reader of the dashboard's event stream (text/event-stream) over a real socket, as the web app reads it with
 * fetch: every frame parsed into its id, event and JSON data, comments counted. `pause()` stops reading (the socket's
 * buffers fill up and the server sees a slow reader); `resume()` reads again.
 */
import { request, type IncomingMessage } from 'node:http';
import { eventually } from './time.ts';

export interface Frame {
  id: number | null;
  event: string;
  data: unknown;
}

export interface SseClient {
  status: number;
  headers: IncomingMessage['headers'];
  frames: Frame[];
  /** Comment lines (`: ping`, `: connected`). */
  comments: string[];
  /** True once the server ended the stream (or the connection closed). */
  ended: boolean;
  pause(): void;
  resume(): void;
  /** Waits until `pred` holds of the frames read so far. */
  waitFor(pred: (frames: Frame[]) => boolean, ms: number, what: string): Promise<void>;
  close(): void;
}

/** Opens `path` of `base` and resolves once the answer's head has arrived. */
export function openStream(base: string, path: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, headers, agent: false }, (res) => {
      let pending = '';
      const client: SseClient = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        frames: [],
        comments: [],
        ended: false,
        pause: () => res.pause(),
        resume: () => res.resume(),
        waitFor: (pred, ms, what) => eventually(() => pred(client.frames), Boolean, ms, `${what} (${client.frames.length} frames so far)`).then(() => {}),
        close: () => req.destroy(),
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        pending += chunk;
        let end: number;
        while ((end = pending.indexOf('\n\n')) >= 0) {
          parseBlock(pending.slice(0, end), client);
          pending = pending.slice(end + 2);
        }
      });
      const ended = () => { client.ended = true; };
      res.on('end', ended);
      res.on('close', ended);
      res.on('error', ended);
      resolve(client);
    });
    req.on('error', reject);
    req.end();
  });
}

function parseBlock(block: string, client: SseClient): void {
  let id: number | null = null;
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) client.comments.push(line.slice(1).trim());
    else if (line.startsWith('id: ')) id = Number(line.slice(4));
    else if (line.startsWith('event: ')) event = line.slice(7);
    else if (line.startsWith('data: ')) data.push(line.slice(6));
  }
  if (data.length > 0) client.frames.push({ id, event, data: JSON.parse(data.join('\n')) as unknown });
}
