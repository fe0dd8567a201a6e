/**
 * The body of a GET of a presence is made from parts (src/presence/render.ts): the view's shared rendering between
 * the id and the sequence number. Whatever the presence holds, it must be byte for byte what a whole rendering gives:
 * a `$select` of every property is rendered whole (JSON.stringify of the shaped object), so the two bodies must be
 * the same after their `@odata.context` members.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ADELE, ALEX, sharedServer, startInProcess, type TestServer } from '../kit/server.ts';
import { addresses, getPresence, message, setStatusOk } from '../kit/graph.ts';
import { forEachBackend } from '../kit/backends.ts';

const EVERY_PROPERTY = 'availability,activity,statusMessage,outOfOfficeSettings,workLocation,sequenceNumber';

/** The body without its first member, the @odata.context (which differs with $select). */
function afterContext(body: string): string {
  const parsed = JSON.parse(body) as Record<string, unknown>;
  assert.equal(Object.keys(parsed)[0], '@odata.context');
  const head = `{"@odata.context":${JSON.stringify(parsed['@odata.context'])},`;
  assert.ok(body.startsWith(head), body.slice(0, 200));
  return body.slice(head.length);
}

forEachBackend(['memory', 'sqlite'], (backend) => {
  const shared = sharedServer(() => startInProcess({ store: backend }));

  describe('GET presence: the body made from parts is a whole rendering\'s bytes', () => {
    let s: TestServer;
    let adele: string;
    let alex: string;

    before(async () => {
      s = await shared();
      adele = await s.userToken(ADELE);
      alex = await s.userToken(ALEX);
    });

    /** Both bodies of one GET, as the owner or a watcher sees it, at each address. */
    async function compare(path: string, token: string): Promise<void> {
      const plain = await getPresence(s, path, token);
      const whole = await getPresence(s, `${path}?$select=${EVERY_PROPERTY}`, token);
      assert.equal(plain.statusCode, 200, plain.body);
      assert.equal(whole.statusCode, 200, whole.body);
      assert.equal(afterContext(plain.body), afterContext(whole.body));
      assert.equal(plain.headers['content-type'], whole.headers['content-type']);
      assert.equal(plain.headers['content-length'], String(Buffer.byteLength(plain.body)));
    }

    it('any status message, as the owner and as a watcher, at each address (fast-check)', async () => {
      // Quotes, backslashes, control characters, emoji and other scripts: what the parts must escape as a whole
      // rendering would; with and without an expiry (the owner sees it, a watcher does not).
      const content = fc.stringMatching(/^[\s\S]{1,40}$/).filter((c) => c.trim().length > 0);
      await fc.assert(fc.asyncProperty(content, fc.boolean(), async (text, expires) => {
        await setStatusOk(s, ADELE, adele, message(text, expires ? { dateTime: '2099-01-01T09:00:00', timeZone: 'Tokyo Standard Time' } : undefined));
        for (const path of Object.values(addresses(ADELE))) await compare(`/v1.0${path}`, adele);
        await compare(`/beta${addresses(ADELE).users}`, alex);
        await compare(`/v1.0${addresses(ADELE).communications}`, alex);
      }), { numRuns: 25 });
    });

    it('another user, to the owner and to a watcher', async () => {
      await compare(`/v1.0${addresses(ALEX).me}`, alex);
      await compare(`/v1.0${addresses(ALEX).users}`, adele);
    });
  });
});
