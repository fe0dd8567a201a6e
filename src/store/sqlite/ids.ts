/** Store-assigned ids on SQLite: the decimal row id of the row (change events, deliveries). */
import Database from 'better-sqlite3';
import { encodeList } from '../codec.ts';

/** The row id behind a store-assigned id, or null for an id this store cannot have handed out (it matches no row). */
export function rowId(id: string): number | null {
  const n = /^[1-9][0-9]*$/.test(id) ? Number(id) : NaN;
  return Number.isSafeInteger(n) ? n : null;
}

/** Store-assigned ids as one JSON array of row ids, for `IN (SELECT value FROM json_each(?))`. */
export function rowIds(ids: readonly string[]): string {
  return encodeList(ids.map(rowId).filter((n) => n !== null));
}

export function isUniqueViolation(err: unknown): boolean {
  return err instanceof Database.SqliteError && err.code === 'SQLITE_CONSTRAINT_UNIQUE';
}
