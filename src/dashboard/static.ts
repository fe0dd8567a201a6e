/**
 * The dashboard's web app as static files (docs/operations/dashboard.md): `GET /_presently/ui` (and `/ui/`) is
 * `dist/ui/index.html`, `GET /_presently/ui/assets/<file>` is `dist/ui/assets/<file>`, from the package's own folder
 * (found from this module's place: `src/dashboard/` under tsx, `dist/dashboard/` when compiled, both two levels below
 * it). Nothing is read at start-up: a file is read on its first request and kept while its size and modification
 * time stay the same (a rebuild is seen without a restart). Open in every mode: the files hold no data
 * [P: d-dashboard-access]. Without a build, a 404 page says how to make one.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { resource } from '../http/wire.ts';

/** Where `npm run build` puts the web app. */
export const DEFAULT_UI_DIR = fileURLToPath(new URL('../../dist/ui/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** A file name of assets/: no path separators, no leading dot. */
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

interface Kept {
  body: Buffer;
  etag: string;
  size: number;
  mtimeMs: number;
}

const NOT_BUILT = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Presently dashboard not built</title></head>'
  + '<body><h1>The dashboard is not built</h1><p>Presently serves its web app from <code>dist/ui/</code>, which is not there. '
  + 'In a clone, run <code>npm run build</code> (<code>npm install</code> runs it too), then reload this page. '
  + 'The dashboard\'s data API under <code>/_presently/ui/api/</code> works without it.</p></body></html>';

export function staticRoutes(app: FastifyInstance, uiDir: string = DEFAULT_UI_DIR): void {
  const files = new StaticFiles(uiDir);
  resource(app, '/_presently/ui', {
    GET: async function dashboardPage(request: FastifyRequest, reply: FastifyReply) {
      const file = await files.get('index.html');
      if (!file) return reply.code(404).type(TYPES['.html']!).header('cache-control', 'no-cache').send(NOT_BUILT);
      return send(request, reply, file, TYPES['.html']!);
    },
  });
  resource(app, '/_presently/ui/assets/:file', {
    GET: async function dashboardAsset(request: FastifyRequest, reply: FastifyReply) {
      const name = (request.params as { file: string }).file;
      const file = ASSET_NAME.test(name) ? await files.get(`assets/${name}`) : null;
      if (!file) {
        return reply.code(404).type('text/plain; charset=utf-8')
          .send(`No dashboard asset '${name.slice(0, 128)}'${files.built() ? '' : ': the dashboard is not built (run npm run build)'}.`);
      }
      return send(request, reply, file, TYPES[path.extname(name).toLowerCase()] ?? 'application/octet-stream');
    },
  });
}

function send(request: FastifyRequest, reply: FastifyReply, file: Kept, type: string) {
  reply.header('cache-control', 'no-cache').header('etag', file.etag).header('x-content-type-options', 'nosniff')
    .header('content-security-policy', "frame-ancestors 'none'").header('x-frame-options', 'DENY');
  if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
  return reply.type(type).send(file.body);
}

/** Files of one folder, read when first asked for and kept while unchanged. */
class StaticFiles {
  private readonly kept = new Map<string, Kept>();
  private seenBuilt = false;

  constructor(private readonly dir: string) {}

  /** Whether index.html was found the last time it was asked for. */
  built(): boolean {
    return this.seenBuilt;
  }

  async get(name: string): Promise<Kept | null> {
    const full = path.join(this.dir, name);
    const info = await stat(full).catch(() => null);
    if (name === 'index.html') this.seenBuilt = info?.isFile() ?? false;
    if (!info?.isFile()) {
      this.kept.delete(name);
      return null;
    }
    const kept = this.kept.get(name);
    if (kept && kept.size === info.size && kept.mtimeMs === info.mtimeMs) return kept;
    const body = await readFile(full).catch(() => null);
    if (!body) return null;
    const file = { body, size: info.size, mtimeMs: info.mtimeMs, etag: `"${createHash('sha1').update(body).digest('base64url')}"` };
    this.kept.set(name, file);
    return file;
  }
}
