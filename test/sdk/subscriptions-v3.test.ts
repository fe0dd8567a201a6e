/**
 * Presence subscriptions through the official `@microsoft/microsoft-graph-client` v3 against a real
 * `presently serve --https` (docs/notifications/subscriptions.md, docs/notifications/delivery.md): created, read, listed, renewed, moved and deleted with
 * `client.api('/subscriptions…')`, errors surfacing as the SDK's GraphError, and a notification actually arriving.
 *
 * The SDK runs in a child process (subscriptions-v3.worker.ts) with `NODE_EXTRA_CA_CERTS` = the certificate Presently
 * printed; the webhook receivers are plain HTTP servers in this process (dev mode allows http://127.0.0.1).
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { ADELE, ALEX, APP, MEGAN, TENANT, startProcess, tempDir, type ServerProcess } from '../kit/server.ts';
import type { CallError, CallOutcome, SubscriptionCall } from './subscriptions-v3.worker.ts';
import { WorkerHost, certificatePath } from '../kit/sdkWorker.ts';
import { forEachBackend } from '../kit/backends.ts';
import { startReceiver, tokenOf } from '../kit/receiver.ts';
import { eventually, sleep } from '../kit/time.ts';

forEachBackend(['memory', 'redis'], (backend) => {
  const WORKER = new URL('./subscriptions-v3.worker.ts', import.meta.url).pathname;
  const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  const MIN = 60_000;

  const AS_ALEX = { userId: ALEX };
  const AS_ADELE = { userId: ADELE };

  /** Graph's subscription entity as the SDK hands it back. */
  interface SubscriptionJson {
    '@odata.context'?: string;
    id: string;
    resource: string;
    applicationId: string;
    changeType: string;
    clientState: string | null;
    notificationUrl: string;
    lifecycleNotificationUrl: string | null;
    expirationDateTime: string;
    creatorId: string;
    includeResourceData: boolean;
    latestSupportedTlsVersion: string;
    notificationContentType: string;
  }

  // ---- the SDK worker ----

  class Worker extends WorkerHost<SubscriptionCall, CallOutcome> {
    static async start(url: string, certPath: string): Promise<Worker> {
      const worker = new Worker(await WorkerHost.fork(WORKER, url, certPath));
      await worker.ready();
      return worker;
    }

    async ok<T = unknown>(call: SubscriptionCall): Promise<T> {
      const o = await this.call(call);
      if (!o.ok) assert.fail(`${call.method.toUpperCase()} ${call.path} failed in the SDK: ${JSON.stringify(o.error)}`);
      return o.value as T;
    }

    async fails(call: SubscriptionCall): Promise<CallError> {
      const o = await this.call(call);
      if (o.ok) assert.fail(`${call.method.toUpperCase()} ${call.path} succeeded but should have failed: ${JSON.stringify(o.value)}`);
      return o.error;
    }
  }

  // ---- webhook receivers in this process ----

  interface Receiver {
    url: string;
    handshakes: { contentType: string | undefined; token: string; body: string }[];
    items: Record<string, unknown>[];
    close(): Promise<void>;
  }

  /** The kit's receiver, recording here; `echo` decides what it answers to the handshake (default: the decoded token). */
  async function receiver(echo: (decoded: string, rawQuery: string) => string = (decoded) => decoded): Promise<Receiver> {
    const handshakes: Receiver['handshakes'] = [];
    const items: Receiver['items'] = [];
    const kit = await startReceiver({
      path: '/hooks/presence',
      handshake: (req, res) => {
        const token = tokenOf(req)!;
        handshakes.push({ contentType: req.headers['content-type'], token, body: req.body });
        const raw = /[?&]validationToken=([^&]*)/.exec(req.url)![1]!;
        res.writeHead(200, { 'content-type': 'text/plain' }).end(echo(token, raw));
      },
      answer: (_n, req) => {
        items.push(...(JSON.parse(req.body) as { value: Record<string, unknown>[] }).value);
        return 202;
      },
    });
    const rx: Receiver = { url: kit.url, handshakes, items, close: kit.close };
    receivers.push(rx);
    return rx;
  }

  /** What `probe` finds, once it finds something (within `ms` of real time). */
  async function waitFor<T>(what: string, ms: number, probe: () => T | undefined): Promise<T> {
    return (await eventually(probe, (found) => found !== undefined, ms, what))!;
  }

  // ---- set-up ----

  let server: ServerProcess;
  let worker: Worker;
  let dataDir: string;
  const receivers: Receiver[] = [];

  before(async () => {
    dataDir = tempDir();
    // The PageIterator case needs pages of subscriptions of one user and app: more than Graph's one.
    server = await startProcess(['--https', '--data', dataDir, '--store', backend, '--handshake-timeout', '2000', '--max-subscriptions-per-user', '1000']);
    const cert = await certificatePath(server);
    worker = await Worker.start(server.url, cert);
  });

  after(async () => {
    worker?.close();
    await server?.stop();
    for (const rx of receivers) await rx.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const setStatus = async (content: string) => {
    const value = await worker.ok({ auth: AS_ADELE, method: 'post', path: '/me/presence/setStatusMessage', body: { statusMessage: { message: { content, contentType: 'text' } } } });
    assert.deepEqual(value, { streamText: '' });
  };

  describe('graph-client v3: a subscription from creation to deletion', () => {
    let rx: Receiver;
    let created: SubscriptionJson;
    const expires = new Date(Date.now() + 50 * MIN);

    before(async () => {
      rx = await receiver();
    });

    it("client.api('/subscriptions').post(): 201 after the handshake, Graph's subscription entity", async () => {
      created = await worker.ok<SubscriptionJson>({
        auth: AS_ALEX, method: 'post', path: '/subscriptions',
        body: {
          changeType: 'updated',
          notificationUrl: rx.url,
          resource: `/communications/presences?$filter=id in ('${ADELE}','${ALEX}')`,
          expirationDateTime: expires.toISOString(),
          clientState: 'sdk-v3-state',
        },
      });
      assert.match(created.id, GUID_RE);
      assert.equal(created['@odata.context'], `${server.url}/beta/$metadata#subscriptions/$entity`);
      assert.deepEqual(
        [created.changeType, created.resource, created.applicationId, created.creatorId, created.clientState, created.notificationUrl],
        ['updated', `/communications/presences?$filter=id in ('${ADELE}','${ALEX}')`, APP, ALEX, 'sdk-v3-state', rx.url],
      );
      assert.equal(Date.parse(created.expirationDateTime), expires.getTime());
      assert.deepEqual([created.latestSupportedTlsVersion, created.notificationContentType, created.includeResourceData], ['v1_2', 'application/json', false]);

      assert.equal(rx.handshakes.length, 1, 'one validation request before the 201');
      const [handshake] = rx.handshakes;
      assert.equal(handshake!.contentType, 'text/plain; charset=utf-8');
      assert.match(handshake!.token, /^Validation: Testing client application reachability for subscription Request-Id: /);
    });

    it(".get() by id, under beta and v1.0, and client.api('/subscriptions').get() lists it (clientState null)", async () => {
      const { '@odata.context': _beta, ...byId } = await worker.ok<SubscriptionJson>({ auth: AS_ALEX, method: 'get', path: `/subscriptions/${created.id}` });
      const { '@odata.context': v1Context, ...byIdV1 } = await worker.ok<SubscriptionJson>({ auth: AS_ALEX, method: 'get', version: 'v1.0', path: `/subscriptions/${created.id}` });
      const { '@odata.context': _created, ...expected } = created;
      assert.deepEqual(byId, expected);
      const { notificationContentType: _betaOnly, ...expectedV1 } = expected;
      assert.deepEqual(byIdV1, expectedV1, 'v1.0 has no notificationContentType');
      assert.equal(v1Context, `${server.url}/v1.0/$metadata#subscriptions/$entity`);

      const list = await worker.ok<{ '@odata.context': string; value: SubscriptionJson[] }>({ auth: AS_ALEX, method: 'get', path: '/subscriptions' });
      assert.equal(list['@odata.context'], `${server.url}/beta/$metadata#subscriptions`);
      assert.deepEqual(list.value.map((s) => s.id), [created.id]);
      assert.deepEqual(list.value[0], { ...expected, clientState: null });

      // Adele has none of her own, and may not read Alex's.
      const adeles = await worker.ok<{ value: SubscriptionJson[] }>({ auth: AS_ADELE, method: 'get', path: '/subscriptions' });
      assert.deepEqual(adeles.value, []);
      const other = await worker.fails({ auth: AS_ADELE, method: 'get', path: `/subscriptions/${created.id}` });
      assert.deepEqual([other.isGraphError, other.statusCode, other.code], [true, 404, 'ResourceNotFound']);
    });

    it('a notification arrives at the receiver after a setStatusMessage', async () => {
      await setStatus('Subscribed through the SDK');
      const item = await waitFor('the notification', 2000, () => rx.items.find((i) => i.subscriptionId === created.id));
      assert.deepEqual(item, {
        subscriptionId: created.id,
        subscriptionExpirationDateTime: created.expirationDateTime,
        changeType: 'updated',
        resource: `communications/presences/${ADELE}`,
        resourceData: { '@odata.id': `users/${ADELE}/presence`, '@odata.type': '#microsoft.graph.presence', id: ADELE },
        clientState: 'sdk-v3-state',
        tenantId: TENANT,
      });
    });

    it(".patch({ expirationDateTime }) renews it: the answer and a read-back show the new expiry, and notifications carry it", async () => {
      const renewed = new Date(Date.now() + 58 * MIN);
      const patched = await worker.ok<SubscriptionJson>({
        auth: AS_ALEX, method: 'patch', path: `/subscriptions/${created.id}`, body: { expirationDateTime: renewed.toISOString() },
      });
      assert.equal(patched.id, created.id);
      assert.equal(Date.parse(patched.expirationDateTime), renewed.getTime());
      const read = await worker.ok<SubscriptionJson>({ auth: AS_ALEX, method: 'get', path: `/subscriptions/${created.id}` });
      assert.equal(read.expirationDateTime, patched.expirationDateTime);
      assert.equal(rx.handshakes.length, 1, 'a renewal needs no handshake');

      rx.items.length = 0;
      await setStatus('Renewed');
      const item = await waitFor('the notification after the renewal', 2000, () => rx.items.find((i) => i.subscriptionId === created.id));
      assert.equal(item.subscriptionExpirationDateTime, patched.expirationDateTime);
      created = read;
    });

    it('.patch({ notificationUrl }) moves it after a handshake with the new endpoint; the next notification goes there', async () => {
      const moved = await receiver();
      const patched = await worker.ok<SubscriptionJson>({ auth: AS_ALEX, method: 'patch', path: `/subscriptions/${created.id}`, body: { notificationUrl: moved.url } });
      assert.equal(patched.notificationUrl, moved.url);
      assert.equal(moved.handshakes.length, 1);
      rx.items.length = 0;
      await setStatus('Moved');
      await waitFor('the notification at the new URL', 2000, () => moved.items.find((i) => i.subscriptionId === created.id));
      await sleep(200);
      assert.deepEqual(rx.items, [], 'nothing more at the old URL');
      created = patched;
      rx = moved;
    });

    it('.delete() removes it: a later .get() is a 404 GraphError, the list is empty, and nothing more is delivered', async () => {
      const value = await worker.ok({ auth: AS_ALEX, method: 'delete', path: `/subscriptions/${created.id}` });
      assert.equal(value, undefined, 'the SDK resolves a 204 to undefined');
      const err = await worker.fails({ auth: AS_ALEX, method: 'get', path: `/subscriptions/${created.id}` });
      assert.equal(err.isGraphError, true, `threw ${err.name}: ${err.message}`);
      assert.deepEqual([err.name, err.statusCode, err.code], ['GraphError', 404, 'ResourceNotFound']);
      assert.match(err.message, new RegExp(created.id));
      assert.match(err.requestId ?? '', GUID_RE);
      const list = await worker.ok<{ value: SubscriptionJson[] }>({ auth: AS_ALEX, method: 'get', path: '/subscriptions' });
      assert.deepEqual(list.value, []);
      const again = await worker.fails({ auth: AS_ALEX, method: 'delete', path: `/subscriptions/${created.id}` });
      assert.equal(again.statusCode, 404);

      rx.items.length = 0;
      await setStatus('Nobody listening');
      await sleep(500);
      assert.deepEqual(rx.items, []);
    });
  });

  describe('graph-client v3: refused subscriptions', () => {
    const body = (notificationUrl: string) => ({
      changeType: 'updated',
      notificationUrl,
      resource: `/communications/presences/${ADELE}`,
      expirationDateTime: new Date(Date.now() + 50 * MIN).toISOString(),
    });

    it('a receiver that echoes the raw (still encoded) token fails the handshake: 400 ValidationError GraphError', async () => {
      const wrong = await receiver((_decoded, raw) => raw);
      const err = await worker.fails({ auth: AS_ALEX, method: 'post', path: '/subscriptions', body: body(wrong.url) });
      assert.equal(wrong.handshakes.length, 1, 'the handshake was made');
      assert.equal(err.isGraphError, true, `threw ${err.name}: ${err.message}`);
      assert.deepEqual([err.statusCode, err.code, err.message], [
        400, 'ValidationError', 'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.',
      ]);
      const list = await worker.ok<{ value: SubscriptionJson[] }>({ auth: AS_ALEX, method: 'get', path: '/subscriptions' });
      assert.deepEqual(list.value, [], 'nothing was stored');
    });

    it('an endpoint that does not answer in time (--handshake-timeout 2000): 400 ValidationError, "timed out"', async () => {
      const silent = await startReceiver({ path: '/slow', respond: () => { /* never answers */ } });
      try {
        const err = await worker.fails({
          auth: AS_ALEX, method: 'post', path: '/subscriptions', body: body(silent.url),
        });
        assert.deepEqual([err.statusCode, err.code, err.message], [400, 'ValidationError', 'Subscription validation request timed out.']);
      } finally {
        await silent.close();
      }
    });

    it('an application token is a 403 GraphError (Graph has no app-only presence subscriptions)', async () => {
      const rx = await receiver();
      const err = await worker.fails({ auth: { roles: ['Presence.Read.All'] }, method: 'post', path: '/subscriptions', body: body(rx.url) });
      assert.deepEqual([err.isGraphError, err.statusCode, err.code], [true, 403, 'Forbidden']);
      assert.equal(rx.handshakes.length, 0, 'refused before any handshake');
    });

    it("PageIterator follows GET /subscriptions' @odata.nextLink to the end: every subscription once", async () => {
      const rx = await receiver();
      const asMegan = { userId: MEGAN };
      const made: string[] = [];
      for (let i = 0; i < 230; i++) {
        const sub = await worker.ok<SubscriptionJson>({
          auth: asMegan, method: 'post', path: '/subscriptions',
          body: { changeType: 'updated', notificationUrl: rx.url, resource: `/communications/presences/${ALEX}`, expirationDateTime: new Date(Date.now() + 50 * MIN).toISOString() },
        });
        made.push(sub.id);
      }
      const first = await worker.ok<{ '@odata.nextLink'?: string; value: SubscriptionJson[] }>({ auth: asMegan, method: 'get', version: 'v1.0', path: '/subscriptions' });
      assert.equal(first.value.length, 100);
      assert.ok(first['@odata.nextLink']?.startsWith(`${server.url}/v1.0/subscriptions?$skiptoken=`), first['@odata.nextLink']);
      for (const version of ['v1.0', 'beta']) {
        const seen = await worker.ok<string[]>({ auth: asMegan, method: 'iterate', version, path: '/subscriptions' });
        assert.equal(new Set(seen).size, seen.length, `${version}: none twice`);
        assert.deepEqual([...seen].sort(), [...made].sort(), `${version}: none missing`);
      }
    });

    it('a user of no tenant of the caller is a 400 naming the id', async () => {
      const rx = await receiver();
      const stranger = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
      const err = await worker.fails({
        auth: AS_ALEX, method: 'post', path: '/subscriptions',
        body: { ...body(rx.url), resource: `/communications/presences/${stranger}` },
      });
      assert.deepEqual([err.statusCode, err.code], [400, 'BadRequest']);
      assert.match(err.message, new RegExp(stranger));
    });
  });
});
