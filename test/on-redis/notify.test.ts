/**
 * The test/notify suites that run servers or stores (subscriptions, handshake, dispatch, delivery, lifecycle, sink,
 * rich notifications) again, on Redis (issue 5): see runFolderOnRedis in ../helpers/redis.ts. Left out: the pure
 * ones (encryption, validation tokens, the webhook URL policy), which touch no store.
 */
import { runFolderOnRedis } from '../helpers/redis.ts';

await runFolderOnRedis(import.meta.url, '../notify', [
  'encryption.test.ts', 'subscriptions-urlpolicy.test.ts', 'validationTokens.test.ts',
]);
