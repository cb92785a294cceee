import type { Layer } from '@koa/router';
import FindMyWay from 'find-my-way';

/** A path segment of a route the tree holds: its static text in lower case, or a parameter. */
type Segment = string | typeof PARAM;
const PARAM = Symbol('param');

// What the tree may hold: a whole segment that is one plain `:name`, or static text without any
// character path-to-regexp gives a meaning to (`:*?+!(){}[]\`), `%` or non-ASCII (whose case
// folding or decoding could differ between find-my-way and the layer's RegExp).
const PARAM_SEGMENT = /^:[A-Za-z_$][\w$]*$/;
const STATIC_SEGMENT = /^[\w\-.~$&',;=@]+$/;

/** A route's segments, or null where the tree cannot stand for its RegExp (see docs/routing.md). */
function shapeOf(layer: Layer): Segment[] | null {
  const { path, opts } = layer;
  // A RegExp, a raw pattern, a prefix match (router.use without end) or '' (use under a parametric prefix).
  if (typeof path !== 'string' || opts.pathAsRegExp === true || opts.end === false) return null;
  if (path === '/') return [];
  if (!path.startsWith('/')) return null;
  const shape: Segment[] = [];
  for (const segment of path.slice(1).split('/')) {
    if (PARAM_SEGMENT.test(segment)) shape.push(PARAM);
    else if (STATIC_SEGMENT.test(segment)) shape.push(segment.toLowerCase());
    // Also an empty segment: a route ending in '/' (or with '//') lets through one slash more than
    // find-my-way's trimmed lookup would see.
    else return null;
  }
  return shape;
}

/** Whether some path could match both shapes: the same length, and no two static segments differ. */
function overlap(a: readonly Segment[], b: readonly Segment[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== PARAM && b[i] !== PARAM && a[i] !== b[i]) return false;
  return true;
}

/** One distinct shape in the tree, with the layers to test when a path lands on it (found lazily). */
interface Bucket {
  readonly shape: readonly Segment[];
  layers: Layer[] | null;
}

/**
 * Which of a router's layers can match a path, found through a radix tree (find-my-way) instead
 * of testing every layer's RegExp: the cost of a lookup follows the path, not the route count.
 *
 * The tree only narrows: each layer it returns is still tested with its own RegExp by the caller,
 * so params, case sensitivity, `strict` and decoding stay @koa/router's. What it must never do is
 * leave out a layer that matches. It holds one entry per distinct shape (`/users/:id` and
 * `/Users/:name` are one); a path that lands on a shape gets every layer whose shape overlaps it —
 * any layer matching that path overlaps it — plus the layers the tree cannot hold (RegExp paths,
 * wildcards, optional groups, `router.use()` prefixes), in stack order, as @koa/router tests them.
 */
export class RouteIndex {
  /** The stack this index was built from (a nested router's clone has its own). */
  readonly stack: readonly Layer[];
  /** How many layers it had: one added later makes the index stale. */
  readonly size: number;
  private readonly shapes: Array<readonly Segment[] | null> = [];
  /** The layers outside the tree: all that can match a path the tree has no shape for. */
  private readonly outside: Layer[] = [];
  private readonly tree = FindMyWay({
    // The caller lowers the raw path: find-my-way's own folding lowers it after decoding, where a
    // character whose lower case is longer (İ) misplaces what follows a parameter. Static text in
    // the tree is ASCII, and a RegExp without the u flag folds ASCII only onto ASCII.
    caseSensitive: true,
    // path-to-regexp lets one trailing slash through unless `strict`; the RegExp decides.
    ignoreTrailingSlash: true,
    // A parameter of any length matches the RegExp; find-my-way's default stops at 100 characters.
    maxParamLength: Number.MAX_SAFE_INTEGER,
    // A path it cannot decode (a stray %) still goes to the RegExps, which test the raw path.
    onBadUrl: () => undefined,
  });

  constructor(stack: readonly Layer[]) {
    this.stack = stack;
    this.size = stack.length;
    const seen = new Set<string>();
    for (const layer of stack) {
      const shape = shapeOf(layer);
      this.shapes.push(shape);
      if (!shape) {
        this.outside.push(layer);
        continue;
      }
      const key = '/' + shape.map((s, i) => (s === PARAM ? `:p${i}` : s)).join('/');
      if (seen.has(key)) continue;
      seen.add(key);
      const bucket: Bucket = { shape, layers: null };
      this.tree.on('GET', key, () => undefined, bucket);
    }
  }

  /** The layers that may match `path` (the request's raw path), in stack order; the caller tests each. */
  candidates(path: string): readonly Layer[] {
    const lower = path.toLowerCase();
    // Not a path (find-my-way would parse it as a URL), or one it would cut at a '?' or '#' that a
    // parameter's RegExp takes in (Koa's ctx.path has neither; a custom routerPath might): every layer.
    if (lower.charCodeAt(0) !== 47 || lower.includes('?') || lower.includes('#')) return this.stack;
    const found = this.tree.find('GET', lower);
    if (found === null) return this.outside;
    const bucket = found.store as Bucket | null;
    if (bucket === null) return this.stack;
    return (bucket.layers ??= this.stack.filter((_, i) => {
      const shape = this.shapes[i];
      return shape === null || shape === undefined || overlap(shape, bucket.shape);
    }));
  }
}
