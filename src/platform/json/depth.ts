/**
 * A nesting limit for JSON text, checked on the raw text before it is parsed, so nothing that recurses (serializing a
 * `$batch` item, a validator walking the value) ever sees a deeply nested value. Presence bodies nest a few levels; a
 * batch envelope adds three; 64 leaves ample room.
 */
/** The deepest nesting of objects and arrays a JSON body may have. */
export const MAX_JSON_DEPTH = 64;

const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * True when the JSON text nests objects and arrays more than `max` levels deep. One linear pass that skips strings;
 * it does not validate the text (the parser does that).
 */
export function nestedDeeperThan(text: string, max: number = MAX_JSON_DEPTH): boolean {
  // Nothing nests deeper than it has opening brackets, and most bodies have a handful: counted by the engine's own
  // search, a 650-id list (25 KB) takes 0.5 µs instead of the walk's 100-150 µs (BENCHMARKS.md, 2026-12-07 12:05).
  if (opensAtMost(text, max)) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > max) return true;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
    }
  }
  return false;
}

/** True when the text has at most `max` opening brackets, in strings or not. */
function opensAtMost(text: string, max: number): boolean {
  let n = 0;
  for (let i = text.indexOf('{'); i >= 0; i = text.indexOf('{', i + 1)) if (++n > max) return false;
  for (let i = text.indexOf('['); i >= 0; i = text.indexOf('[', i + 1)) if (++n > max) return false;
  return true;
}

/** What a 400 for a body over the limit says. */
export const TOO_DEEP_MESSAGE = `The JSON request body is nested more than ${MAX_JSON_DEPTH} levels deep (objects and arrays); flatten it.`;
