/**
 * The client that fetches discovery documents and key sets (src/auth/oidc/httpGet.ts): a provider that answers too
 * much, too slowly, with a redirect or not at all gives a ProviderUnavailable naming why, and never a hang.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ProviderUnavailable, fetchJson } from '../../src/auth/oidc/discovery.ts';
import { MAX_BODY_BYTES } from '../../src/auth/oidc/httpGet.ts';

describe('oidc: fetching a provider\'s documents', () => {
  let server: Server;
  let base: string;
  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/ok') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"issuer":"x","keys":[]}');
      if (req.url === '/huge') return void res.writeHead(200).end(Buffer.alloc(MAX_BODY_BYTES + 1, 0x20));
      if (req.url === '/moved') return void res.writeHead(302, { location: '/ok' }).end();
      if (req.url === '/text') return void res.writeHead(200).end('<html>');
      // /silent: never answers
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const refused = async (path: string, pattern: RegExp, timeoutMs = 2000) => {
    await assert.rejects(fetchJson(`${base}${path}`, timeoutMs), (err: unknown) => err instanceof ProviderUnavailable && pattern.test(err.message));
  };

  it('a JSON object is read', async () => {
    assert.deepEqual(await fetchJson(`${base}/ok`, 2000), { issuer: 'x', keys: [] });
  });
  it('an answer over 1 MiB is cut off', () => refused('/huge', /could not be reached: the answer is larger than 1048576 bytes/));
  it('a redirect is not followed', () => refused('/moved', /answered HTTP 302/));
  it('an answer that is not JSON', () => refused('/text', /answered something other than a JSON object/));
  it('no answer within the time limit', () => refused('/silent', /could not be reached: no answer within 200 ms/, 200));
  it('nobody listening', async () => {
    await assert.rejects(fetchJson('http://127.0.0.1:9/', 2000), (err: unknown) =>
      err instanceof ProviderUnavailable && /could not be reached: fetch failed \(ECONNREFUSED\)/.test(err.message));
  });
});
