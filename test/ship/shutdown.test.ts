/**
 * Under a supervisor: SIGTERM to the process it started stops the server, after the requests and webhook POSTs in
 * flight have finished (docs/operations/README.md#start-and-stop).
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { builtBin } from '../kit/build.ts';
import { ROOT, descendants, emptyDir, startCommand } from '../kit/pack.ts';
import { startReceiver } from '../kit/receiver.ts';
import { ADELE, startProcess, tempDir } from '../kit/server.ts';
import { until } from '../kit/time.ts';

async function post(url: string, path: string, body: unknown, token?: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

async function userToken(url: string): Promise<string> {
  const res = await post(url, '/_presently/tokens', { userId: ADELE });
  assert.equal(res.status, 200, res.text);
  return (JSON.parse(res.text) as { access_token: string }).access_token;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('stopping under a supervisor', () => {
  it('SIGTERM to `npm start` (the process a supervisor started) stops the server: no node is left on the port', async () => {
    builtBin();
    const server = await startCommand('npm', ['start', '--', '--port', '0', '--data', emptyDir('npm-start')], ROOT);
    const node = descendants(server.child.pid!);
    assert.ok(node.length > 0, 'npm runs the server as its child');
    server.child.kill('SIGTERM');
    await server.exited;
    await until(() => node.every((pid) => !alive(pid)), 10_000, 'the server process to exit');
    assert.match(server.stderr(), /Presently stopping \(SIGTERM\)/);
    await assert.rejects(fetch(`${server.url}/_presently/health`), 'nothing answers on the port');
  });

  it('a request in flight when SIGTERM arrives gets its answer, then the process exits 0', async () => {
    const server = await startProcess(['--data', tempDir(), '--log-level', 'info']);
    const token = await userToken(server.url);
    const body = JSON.stringify({ statusMessage: { message: { content: 'Sent while stopping', contentType: 'text' } } });
    const answer = new Promise<number>((resolve, reject) => {
      const req = request(`${server.url}/v1.0/me/presence/setStatusMessage`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${token}` },
      }, (res) => { res.resume(); resolve(res.statusCode!); });
      req.on('error', reject);
      req.write(body.slice(0, 10));
      // The rest of the body once the server has begun the request and has been told to stop.
      void until(() => server.stdout().includes('setStatusMessage'), 10_000, 'the request to begin')
        .then(() => server.child.kill('SIGTERM'))
        .then(() => until(() => server.stderr().includes('Presently stopping'), 10_000, 'the stop to begin'))
        .then(() => req.end(body.slice(10)), reject);
    });
    assert.equal(await answer, 200);
    assert.equal(await server.stop(), 0, server.stderr());
  });

  it('a webhook POST in flight when SIGTERM arrives is answered to a listening sender before the process exits 0', async (t) => {
    let release!: () => void;
    const held = new Promise<number>((resolve) => { release = () => resolve(202); });
    const receiver = await startReceiver({ answer: () => held });
    t.after(() => receiver.close());
    const server = await startProcess(['--data', tempDir()]);
    const token = await userToken(server.url);
    const sub = await post(server.url, '/v1.0/subscriptions', {
      changeType: 'updated', notificationUrl: receiver.url, resource: `/communications/presences/${ADELE}`,
      expirationDateTime: new Date(Date.now() + 3_600_000).toISOString(), clientState: 'stopping',
    }, token);
    assert.equal(sub.status, 201, sub.text);
    const set = await post(server.url, '/v1.0/me/presence/setStatusMessage', { statusMessage: { message: { content: 'Notify me', contentType: 'text' } } }, token);
    assert.equal(set.status, 200, set.text);
    await receiver.waitFor(() => receiver.posts.length === 1, 10_000, 'the notification POST');

    server.child.kill('SIGTERM');
    await until(() => server.stderr().includes('Presently stopping'), 10_000, 'the stop to begin');
    release();
    assert.equal(await server.stop(), 0);
    assert.equal(receiver.answered, 1, 'the sender still listened when the receiver answered');
  });
});
