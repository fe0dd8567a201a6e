/** The meta port on Redis: one hash, `<prefix>meta`. */
import type { MetaPort } from '../ports/meta.ts';
import type { RedisContext } from './context.ts';
import { META_IF_ABSENT } from './scripts.ts';

export class RedisMeta implements MetaPort {
  private readonly key: string;

  constructor(private readonly ctx: RedisContext) {
    this.key = `${ctx.prefix}meta`;
  }

  async getMeta(key: string): Promise<string | null> {
    return this.ctx.client.hget(this.key, key);
  }

  async getMetas(keys: readonly string[]): Promise<Map<string, string>> {
    const values = await this.ctx.client.hmget(this.key, ...keys);
    const found = new Map<string, string>();
    keys.forEach((key, i) => {
      const value = values[i];
      if (value !== null && value !== undefined) found.set(key, value);
    });
    return found;
  }

  async setMeta(key: string, value: string): Promise<void> {
    await this.ctx.client.hset(this.key, key, value);
  }

  async setMetaIfAbsent(key: string, value: string): Promise<string> {
    return await this.ctx.run(META_IF_ABSENT, [this.key], [key, value]) as string;
  }
}
