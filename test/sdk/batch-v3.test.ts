/**
 * JSON batching end to end with the official `@microsoft/microsoft-graph-client` v3 helpers — `BatchRequestContent`
 * and `BatchResponseContent` — against a real `presently serve --https`. The SDK runs in a child process
 * (batch-v3.worker.ts) trusting Presently's dev certificate through NODE_EXTRA_CA_CERTS, as in graph-client-v3.test.ts.
 *
 * URLs: on Node the steps' `Request`s need absolute URLs, and graph-client 3.0.7's BatchRequestContent strips only the
 * scheme and host from them. So, as with Graph, a step's URL is the server root plus the path *without* the version
 * (`https://host/users/{id}/presence`); with the version in it, the item answers 400 for the segment 'v1.0', as Graph
 * does (msgraph-sdk-javascript#1178, #1451).
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { ADELE, ALEX, MEGAN, startProcess, tempDir, type ServerProcess } from '../kit/server.ts';
import type { BatchCall, BatchItemSeen, BatchResult, GetCall, SdkAuth, SdkOutcome } from './batch-v3.worker.ts';
import { WorkerHost, certificatePath } from '../kit/sdkWorker.ts';
import { forEachBackend } from '../kit/backends.ts';

forEachBackend(['memory', 'redis'], (backend) => {
  const WORKER = new URL('./batch-v3.worker.ts', import.meta.url).pathname;
  const ODATA_JSON = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

  const AS_ADELE: SdkAuth = { userId: ADELE };
  const AS_APP: SdkAuth = { roles: ['Presence.ReadWrite.All'] };

  type Presence = Record<string, unknown> & { id: string; statusMessage: null | { message: { content: string } } };
  type ErrorJson = { error: { code: string; message: string; innerError: Record<string, string> } };

  class BatchWorker extends WorkerHost<BatchCall | GetCall, SdkOutcome> {
    static async start(url: string, certPath: string): Promise<BatchWorker> {
      const worker = new BatchWorker(await WorkerHost.fork(WORKER, url, certPath));
      await worker.ready();
      return worker;
    }

    async batch(call: Omit<BatchCall, 'kind'>): Promise<BatchResult & { byId: Map<string, BatchItemSeen> }> {
      const o = await this.call({ kind: 'batch', ...call });
      if (!o.ok) assert.fail(`the batch failed in the SDK: ${JSON.stringify(o.error)}`);
      const result = o.value as BatchResult;
      return { ...result, byId: new Map(result.responses.map((r) => [r.id, r])) };
    }

    async get<T>(call: Omit<GetCall, 'kind'>): Promise<T> {
      const o = await this.call({ kind: 'get', ...call });
      if (!o.ok) assert.fail(`GET ${call.path} failed in the SDK: ${JSON.stringify(o.error)}`);
      return o.value as T;
    }
  }

  function assertError(item: BatchItemSeen | undefined, status: number, code: string): ErrorJson {
    assert.ok(item, 'no response for the step');
    assert.equal(item.status, status, JSON.stringify(item.body));
    assert.equal(item.headers['content-type'], ODATA_JSON);
    const body = item.body as ErrorJson;
    assert.equal(body.error.code, code);
    return body;
  }

  const statusMessage = (content: string) => ({ statusMessage: { message: { content, contentType: 'text' } } });

  let server: ServerProcess;
  let worker: BatchWorker;
  let dataDir: string;

  before(async () => {
    dataDir = tempDir();
    server = await startProcess(['--https', '--data', dataDir, '--store', backend]);
    const cert = await certificatePath(server);
    worker = await BatchWorker.start(server.url, cert);
  });

  after(async () => {
    worker?.close();
    await server?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  describe('graph-client v3 BatchRequestContent / BatchResponseContent over https', () => {
    test('a batch of GETs: BatchResponseContent gives each presence exactly as a direct SDK GET does', async () => {
      const paths = [`/users/${ADELE}/presence`, `/users/${ALEX}/presence`, `/users/${MEGAN}/presence`, `/communications/presences/${ALEX}`];
      for (const version of ['v1.0', 'beta']) {
        const { sent, byId } = await worker.batch({
          auth: AS_APP, version,
          steps: paths.map((path, i) => ({ id: String(i + 1), method: 'GET', path })),
        });
        assert.deepEqual(sent.requests.map((r) => r.url), paths, 'the SDK sends the paths relative to the version');
        for (const [i, path] of paths.entries()) {
          const item = byId.get(String(i + 1))!;
          assert.equal(item.status, 200, JSON.stringify(item.body));
          assert.equal(item.headers['content-type'], ODATA_JSON);
          const direct: Presence = await worker.get<Presence>({ auth: AS_APP, path, version });
          assert.deepEqual(item.body, direct, `${version} ${path}`);
          // The item ran with the batch's scheme and host: https, the server's own URL.
          assert.ok(String((item.body as Presence)['@odata.context']).startsWith(`${server.url}/${version}/$metadata#`));
        }
      }
    });

    test('a dependent POST + GET (addDependency): the GET runs after the POST and sees its message', async () => {
      const { sent, byId } = await worker.batch({
        auth: AS_ADELE,
        steps: [
          { id: 'set', method: 'POST', path: '/me/presence/setStatusMessage', body: statusMessage('Batched from the SDK') },
          { id: 'get', method: 'GET', path: '/me/presence' },
        ],
        addDependency: [['get', 'set']],
      });
      assert.deepEqual(sent.requests[1]!.dependsOn, ['set']);
      assert.equal((sent.requests[0]!.headers as Record<string, string>)['content-type'], 'application/json');
      const set = byId.get('set')!;
      assert.equal(set.status, 200);
      assert.equal(set.body, '', 'an empty-bodied 200');
      const got = byId.get('get')!;
      assert.equal(got.status, 200);
      assert.equal((got.body as Presence).statusMessage?.message.content, 'Batched from the SDK');
      assert.equal((got.body as Presence)['@odata.context'], `${server.url}/beta/$metadata#users('${ADELE}')/presence/$entity`);
    });

    test('a failed step: its dependants answer 424 FailedDependency and are not run', async () => {
      const { byId } = await worker.batch({
        auth: AS_ADELE, version: 'v1.0',
        steps: [
          { id: '1', method: 'POST', path: `/users/${ALEX}/presence/setStatusMessage`, body: statusMessage('Not mine') },
          { id: '2', method: 'POST', path: '/me/presence/setStatusMessage', body: statusMessage('Never written'), dependsOn: ['1'] },
          { id: '3', method: 'GET', path: '/me/presence', dependsOn: ['2'] },
        ],
      });
      assert.match(assertError(byId.get('1'), 403, 'Forbidden').error.message, /Cannot set the presence of another user/);
      assertError(byId.get('2'), 424, 'FailedDependency');
      assertError(byId.get('3'), 424, 'FailedDependency');
      const me = await worker.get<Presence>({ auth: AS_ADELE, path: '/me/presence' });
      assert.notEqual(me.statusMessage?.message.content, 'Never written');
    });

    test("a step URL with the version in it answers 400 for the segment 'v1.0', as Graph does", async () => {
      const { sent, byId } = await worker.batch({
        auth: AS_APP, version: 'v1.0',
        steps: [
          { id: 'versioned', method: 'GET', path: `/v1.0/users/${ADELE}/presence` },
          { id: 'plain', method: 'GET', path: `/users/${ADELE}/presence` },
        ],
      });
      assert.equal(sent.requests[0]!.url, `/v1.0/users/${ADELE}/presence`);
      assert.equal(assertError(byId.get('versioned'), 400, 'BadRequest').error.message, "Resource not found for the segment 'v1.0'.");
      assert.equal(byId.get('plain')!.status, 200);
    });
  });
});
