/**
 * The dashboard's web app as static files (docs/operations/dashboard.md#the-web-app): read on first request (a
 * folder that appears after start-up is served), the right content types, `no-cache` with an ETag, nothing outside
 * assets/, and a page saying how to build it when it is not built.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startInProcess, tempDir, type TestServer } from '../kit/server.ts';

describe('dashboard static files', () => {
  let s: TestServer;
  const root = tempDir();
  const ui = join(root, 'ui');
  before(async () => {
    // Not there yet when the server starts: nothing is read at start-up.
    s = await startInProcess({}, { uiDir: ui });
  });
  after(async () => {
    await s?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('without a build, /_presently/ui is a 404 page that says to run npm run build', async () => {
    for (const url of ['/_presently/ui', '/_presently/ui/']) {
      const res = await s.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 404, url);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      assert.match(res.body, /npm run build/);
    }
    const asset = await s.inject({ method: 'GET', url: '/_presently/ui/assets/app.js' });
    assert.equal(asset.statusCode, 404);
    assert.match(asset.body, /npm run build/);
  });

  it('once built, index.html and the assets are served with their types, no-cache and an ETag', async () => {
    mkdirSync(join(ui, 'assets'), { recursive: true });
    writeFileSync(join(ui, 'index.html'), '<!doctype html><title>Presently</title><script src="assets/app.js"></script>');
    writeFileSync(join(ui, 'assets', 'app.js'), 'console.log("app");');
    writeFileSync(join(ui, 'assets', 'app.css'), 'body{}');
    for (const url of ['/_presently/ui', '/_presently/ui/']) {
      const res = await s.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200, url);
      assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(res.headers['cache-control'], 'no-cache');
      assert.match(res.body, /<title>Presently<\/title>/);
    }
    const js = await s.inject({ method: 'GET', url: '/_presently/ui/assets/app.js' });
    assert.equal(js.statusCode, 200);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(js.body, 'console.log("app");');
    const css = await s.inject({ method: 'GET', url: '/_presently/ui/assets/app.css' });
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
    const etag = String(js.headers.etag);
    const again = await s.inject({ method: 'GET', url: '/_presently/ui/assets/app.js', headers: { 'if-none-match': etag } });
    assert.equal(again.statusCode, 304);
  });

  it('a rebuilt file is served as rebuilt', async () => {
    writeFileSync(join(ui, 'assets', 'app.js'), 'console.log("rebuilt, and longer");');
    const res = await s.inject({ method: 'GET', url: '/_presently/ui/assets/app.js' });
    assert.equal(res.body, 'console.log("rebuilt, and longer");');
  });

  it('serves nothing outside assets/: other names are 404s', async () => {
    writeFileSync(join(root, 'secret.txt'), 'secret');
    for (const name of ['..%2Fsecret.txt', '..%2F..%2Fsecret.txt', '.hidden', 'missing.js', '%2E%2E%2Findex.html']) {
      const res = await s.inject({ method: 'GET', url: `/_presently/ui/assets/${name}` });
      assert.equal(res.statusCode, 404, name);
      assert.notEqual(res.body, 'secret', name);
    }
    assert.equal((await s.inject({ method: 'GET', url: '/_presently/ui/secret.txt' })).statusCode, 404);
  });
});
