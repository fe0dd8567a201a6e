/**
 * The paths served under Graph's trees (/v1.0, /beta) as a tree of segments, so an unknown path can be answered the
 * way Graph answers it: 400 naming the first segment that does not resolve (docs/api/wire-format.md#unknown-paths).
 * Segments match case-insensitively, as the router does; a `:param` segment matches any one segment.
 */

interface Node {
  statics: Map<string, Node>;
  param: Node | null;
  /** Methods served at exactly this path (empty: only a prefix of served paths). */
  methods: Set<string>;
}

const node = (): Node => ({ statics: new Map(), param: null, methods: new Set() });

/** What a path is, seen from the tree. */
export type PathMatch =
  | { kind: 'unknown'; segment: string }
  | { kind: 'resource'; methods: string[] }
  | { kind: 'prefix'; next: string[] };

/** /v1.0 or /beta, followed by the end, a slash or a query. */
export const GRAPH_TREE = /^\/(?:v1\.0|beta)(?:[/?]|$)/i;

export class RouteTree {
  private readonly root = node();

  /** Adds a route (its URL as registered, `:params` and all) and its methods. */
  add(url: string, methods: readonly string[]): void {
    let at = this.root;
    for (const part of split(url)) {
      if (part.startsWith(':')) {
        at.param ??= node();
        at = at.param;
      } else {
        const key = part.toLowerCase();
        let next = at.statics.get(key);
        if (!next) at.statics.set(key, (next = node()));
        at = next;
      }
    }
    for (const m of methods) if (m !== 'HEAD' && m !== 'OPTIONS') at.methods.add(m);
  }

  /** Where `path` (no query; percent-escapes undone per segment) leads. */
  match(path: string): PathMatch {
    const parts = split(path).map(decodeSafe);
    const best = deepest(this.root, parts, 0);
    if (best.depth < parts.length) return { kind: 'unknown', segment: parts[best.depth]!.slice(0, 200) };
    const end = best.node!;
    if (end.methods.size > 0) return { kind: 'resource', methods: [...end.methods] };
    return { kind: 'prefix', next: [...end.statics.keys()] };
  }
}

function split(path: string): string[] {
  return path.split('/').filter((p) => p !== '');
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The branch that matches the most segments (static before `:param`, as the router prefers). */
function deepest(at: Node, parts: string[], i: number): { depth: number; node: Node | null } {
  if (i === parts.length) return { depth: i, node: at };
  let best: { depth: number; node: Node | null } = { depth: i, node: null };
  const exact = at.statics.get(parts[i]!.toLowerCase());
  if (exact) best = deepest(exact, parts, i + 1);
  if (at.param && best.depth < parts.length) {
    const viaParam = deepest(at.param, parts, i + 1);
    if (viaParam.depth > best.depth) best = viaParam;
  }
  return best;
}
