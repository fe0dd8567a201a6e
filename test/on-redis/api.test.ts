/** Every test/api suite again, on Redis (issue 5): see runFolderOnRedis in ../helpers/redis.ts. */
import { runFolderOnRedis } from '../helpers/redis.ts';

await runFolderOnRedis(import.meta.url, '../api');
