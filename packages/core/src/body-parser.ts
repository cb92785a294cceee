import type Router from '@koa/router';
import type { Middleware } from 'koa';
import type { FrameworkMiddleware } from './loader/framework-plugin.js';

/** The methods the body parser reads (its default); it passes every other request through untouched. */
const PARSED_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/**
 * A route's opt-out of the body parser: `router.post('/upload', skipBodyParser, 'upload.create')`
 * leaves the request's body unread for the action (its own multipart or raw-body handling). A
 * middleware can do the same for any request with `ctx.disableBodyParser = true`.
 */
export const skipBodyParser: Middleware = (_ctx, next) => next();

/**
 * @koa/bodyparser's own types per kind (6.x). It merges `extendTypes` over them with lodash.merge,
 * which merges arrays index by index — `{ json: ['application/x-custom'] }` would replace
 * `application/json` — so what egg means, "these as well", is passed as the whole list.
 */
const PARSER_TYPES: Record<string, string[]> = {
  json: [
    'application/json',
    'application/json-patch+json',
    'application/vnd.api+json',
    'application/csp-report',
    'application/reports+json',
    'application/scim+json',
  ],
  form: ['application/x-www-form-urlencoded'],
  text: ['text/plain'],
  xml: ['text/xml', 'application/xml'],
};

/**
 * egg's bodyParser options as @koa/bodyparser takes them: `extendTypes` values may be one string
 * (egg's) or a list, and are added to the parser's own; `strict` is `jsonStrict`. The rest
 * (jsonLimit, formLimit, textLimit, enableTypes, encoding) have the same names.
 */
function parserOptions(config: Record<string, unknown>): Record<string, unknown> {
  const { enable: _enable, match: _match, ignore: _ignore, strict, extendTypes, ...rest } = config;
  const options: Record<string, unknown> = { ...rest };
  if (strict !== undefined && options.jsonStrict === undefined) options.jsonStrict = strict;
  if (extendTypes && typeof extendTypes === 'object') {
    options.extendTypes = Object.fromEntries(
      Object.entries(extendTypes as Record<string, unknown>).map(([type, mimes]) => [
        type,
        [...(PARSER_TYPES[type] ?? []), ...(Array.isArray(mimes) ? mimes : [mimes])],
      ]),
    );
  }
  return options;
}

/**
 * @koa/bodyparser, imported on the first request it would parse: it costs ~90 ms and ~20 MB at
 * start-up, which a worker serving only GETs never needs to pay. Skips what opted out: a request with
 * `ctx.disableBodyParser` (the parser's own flag) and one whose route holds `skipBodyParser`.
 */
function lazyBodyParser(options: Record<string, unknown>, router: Router): Middleware {
  let parser: Promise<Middleware> | null = null;
  // Not async: a GET passes straight through without a promise of its own.
  return (ctx, next) => {
    if (!PARSED_METHODS.has(ctx.method)) return next();
    if (router.match(ctx.path, ctx.method).pathAndMethod.some((layer) => layer.stack.includes(skipBodyParser))) return next();
    parser ??= import('@koa/bodyparser').then(({ bodyParser }) => bodyParser(options) as unknown as Middleware);
    return parser.then((parse) => parse(ctx, next));
  };
}

/**
 * The body parser, the kernel's own framework middleware (egg's coreMiddleware has it too, and the
 * built-ins place theirs around it): `config.bodyParser` holds its options, `enable: false` (or
 * `bodyParser: false`) turns it off, `match`/`ignore` scope it.
 */
export const bodyParser: FrameworkMiddleware = {
  name: 'bodyParser',
  create: (options, app) => lazyBodyParser(parserOptions(options), app.router),
};
