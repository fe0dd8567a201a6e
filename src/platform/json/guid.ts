/**
 * GUIDs read into their 128 bits: one pass over the 36 characters that checks the 8-4-4-4-12 form and writes four
 * 32-bit words, the form the read cache keys users by (src/presence/guidTable.ts). `isGuid` (./validate.ts) is this
 * without the words.
 */

/** `readGuid`'s answer for a string that is not a GUID. */
export const NOT_A_GUID = -1;
/** `readGuid`'s answer for a GUID with capital letters (lower-case it before showing or storing it). */
export const GUID_WITH_CAPITALS = 1;

/** Set in HEX for a character that is no hexadecimal digit. */
const BAD = 16;
/** Set in HEX for a capital hexadecimal digit. */
const CAPITAL = 32;
/** Per character code: the digit's value, with BAD or CAPITAL set. */
const HEX = new Uint8Array(65_536).fill(BAD);
for (let d = 0; d < 10; d++) HEX[48 + d] = d;
for (let d = 0; d < 6; d++) {
  HEX[97 + d] = 10 + d;
  HEX[65 + d] = (10 + d) | CAPITAL;
}

/** What the digits read since the last GUID started had of BAD and CAPITAL. */
let flags = 0;

function hex4(s: string, i: number): number {
  const a = HEX[s.charCodeAt(i)]!;
  const b = HEX[s.charCodeAt(i + 1)]!;
  const c = HEX[s.charCodeAt(i + 2)]!;
  const d = HEX[s.charCodeAt(i + 3)]!;
  flags |= a | b | c | d;
  return ((a & 15) << 12) | ((b & 15) << 8) | ((c & 15) << 4) | (d & 15);
}

/**
 * Writes the 128 bits of GUID `id` (`8-4-4-4-12` hexadecimal digits, either case) into `out[at .. at + 3]`, and says
 * what it is: NOT_A_GUID (`out` then holds nothing useful), GUID_WITH_CAPITALS, or 0 for a lower-case GUID. One pass
 * over the characters, unrolled (a 650-id request reads 650 of them; a loop with a branch per character took twice as
 * long).
 */
export function readGuid(id: string, out: Uint32Array, at: number): number {
  if (id.length !== 36 || id.charCodeAt(8) !== 45 || id.charCodeAt(13) !== 45 || id.charCodeAt(18) !== 45 ||
    id.charCodeAt(23) !== 45) return NOT_A_GUID;
  flags = 0;
  out[at] = (hex4(id, 0) << 16) | hex4(id, 4);
  out[at + 1] = (hex4(id, 9) << 16) | hex4(id, 14);
  out[at + 2] = (hex4(id, 19) << 16) | hex4(id, 24);
  out[at + 3] = (hex4(id, 28) << 16) | hex4(id, 32);
  if (flags & BAD) return NOT_A_GUID;
  return flags & CAPITAL ? GUID_WITH_CAPITALS : 0;
}

/** The character codes of the lower-case hexadecimal digits. */
const DIGITS = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
/** The digit of `w`'s four bits from bit `shift` up. */
const digit = (w: number, shift: number): number => DIGITS[(w >>> shift) & 15]!;

/**
 * The lower-case GUID whose 128 bits are `words[at .. at + 3]` (readGuid's inverse), made in one String.fromCharCode
 * of its 36 characters: a flat string, 15 times as fast as formatting each word with toString(16) and cutting it (the
 * presence journal names every user this way in each snapshot: 1.5 s of the event loop at a million users before).
 */
export function guidText(words: Uint32Array, at: number): string {
  const [a, b, c, d] = [words[at]!, words[at + 1]!, words[at + 2]!, words[at + 3]!];
  return String.fromCharCode(
    digit(a, 28), digit(a, 24), digit(a, 20), digit(a, 16), digit(a, 12), digit(a, 8), digit(a, 4), digit(a, 0), 45,
    digit(b, 28), digit(b, 24), digit(b, 20), digit(b, 16), 45, digit(b, 12), digit(b, 8), digit(b, 4), digit(b, 0), 45,
    digit(c, 28), digit(c, 24), digit(c, 20), digit(c, 16), 45, digit(c, 12), digit(c, 8), digit(c, 4), digit(c, 0),
    digit(d, 28), digit(d, 24), digit(d, 20), digit(d, 16), digit(d, 12), digit(d, 8), digit(d, 4), digit(d, 0),
  );
}

/** A slot number for (tenant, the GUID in `words[at .. at + 3]`): every word mixed in (test GUIDs differ in their last digits). */
export function hashOf(tenant: number, words: Uint32Array, at: number): number {
  let h = Math.imul(tenant ^ 0x9e3779b9, 0x85ebca6b);
  for (let i = 0; i < 4; i++) h = Math.imul(h ^ (h >>> 15) ^ words[at + i]!, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 0;
}
