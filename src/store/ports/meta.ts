/** The meta port: small named values (schema flags, the dev signing key, "demo seeded"). */

export interface MetaPort {
  getMeta(key: string): Promise<string | null>;
  /** The values of those of `keys` that have one, in one call (one query, one command) whatever their number. */
  getMetas(keys: readonly string[]): Promise<Map<string, string>>;
  setMeta(key: string, value: string): Promise<void>;
  /** Sets the value only if the key has none; returns the value that is stored afterwards. */
  setMetaIfAbsent(key: string, value: string): Promise<string>;
}
