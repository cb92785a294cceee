import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import type { Application, Context } from '@clutch/core';
import mm from 'mm';
import { ClutchError, MockErrorCode } from './errors.js';

/** What `app.mockContext(data)` takes: the request's parts, and anything else to set on the context. */
export interface MockContextData {
  url?: string;
  method?: string;
  headers?: Record<string, string>;
  ip?: string;
  [key: string]: unknown;
}

/**
 * egg-mock's `app.mockContext(data)`: a context of a request that never crossed a socket — made by
 * the app's own `createContext`, so `ctx.service`, `ctx.helper`, `ctx.session`, `ctx.logger`, the
 * project's context extensions and every mock in place are live. `url`, `method`, `headers` and `ip`
 * shape the request; every other key (`user`, …) is set on the context.
 */
export function mockContext(app: Application, data: MockContextData = {}): Context {
  const { url = '/', method = 'GET', headers = {}, ip = '127.0.0.1', ...rest } = data;
  const req = new IncomingMessage(new Socket());
  req.method = method.toUpperCase();
  req.url = url;
  req.headers = { host: '127.0.0.1', ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])) };
  const ctx = app.createContext(req, new ServerResponse(req)) as unknown as Context;
  ctx.request.ip = ip;
  for (const [key, value] of Object.entries(rest)) {
    Object.defineProperty(ctx, key, { configurable: true, enumerable: true, writable: true, value });
  }
  return ctx;
}

type Method = (...args: unknown[]) => unknown;

/** The prototype a service's instances share, found as a request finds it: through `ctx.service`. */
function serviceProto(app: Application, service: string | (new (...a: never[]) => object), method: string): Record<string, unknown> {
  if (typeof service === 'function') return service.prototype as Record<string, unknown>;
  let node: unknown = app.createAnonymousContext().service;
  const walked: string[] = [];
  for (const name of service.split('.')) {
    const next = node && typeof node === 'object' && name in node ? (node as Record<string, unknown>)[name] : undefined;
    if (!next || typeof next !== 'object') {
      const known = node && typeof node === 'object' ? Object.keys(Object.getPrototypeOf(node) as object) : [];
      throw new ClutchError(
        MockErrorCode.UNKNOWN_SERVICE,
        `app.mockService('${service}'): ctx.service${walked.map((w) => `.${w}`).join('')} has no "${name}" (it has: ${known.join(', ') || 'nothing'})`,
      );
    }
    walked.push(name);
    node = next;
  }
  const proto = Object.getPrototypeOf(node) as Record<string, unknown>;
  if (typeof proto[method] !== 'function') {
    throw new ClutchError(MockErrorCode.UNKNOWN_SERVICE, `app.mockService('${service}', '${method}'): ctx.service.${service} has no method "${method}"`);
  }
  return proto;
}

const isAsync = (fn: unknown): boolean => typeof fn === 'function' && fn.constructor.name === 'AsyncFunction';

/**
 * egg-mock's `app.mockService(service, method, fnOrValue)`: every instance of the service (each
 * request's) answers `method` with `fn`, or with the value — resolved, where the method is async.
 */
export function mockService(app: Application, service: string | (new (...a: never[]) => object), method: string, fnOrValue: unknown): void {
  const proto = serviceProto(app, service, method);
  if (typeof fnOrValue === 'function') return mm(proto, method, fnOrValue);
  const value = fnOrValue;
  mm(proto, method, isAsync(proto[method]) ? async () => value : () => value);
}

/** egg-mock's `app.mockServiceError(service, method, err?)`: the method fails with `err` (rejects, where async). */
export function mockServiceError(app: Application, service: string | (new (...a: never[]) => object), method: string, err?: Error | string): void {
  const proto = serviceProto(app, service, method);
  const error = err instanceof Error ? err : new Error(err ?? `mock ${typeof service === 'string' ? service : service.name}.${method} error`);
  const fail: Method = () => {
    throw error;
  };
  mm(proto, method, isAsync(proto[method]) ? async () => fail() : fail);
}

/** egg-mock's `app.mockSession(data)`: every request's `ctx.session` is `data` (with egg's no-op `save()`). */
export function mockSession(app: Application, data: Record<string, unknown>): void {
  if (!Object.hasOwn(data, 'save')) Object.defineProperty(data, 'save', { value: () => {}, enumerable: false });
  mm(app.context, 'session', data);
}

/**
 * egg-mock's `app.mockCookies(data)`: `ctx.cookies.get(name)` answers `data[name]` (signed or not),
 * other names as before. Each context the app makes — a request's or mockContext's — gets it.
 */
export function mockCookies(app: Application, data: Record<string, string>): void {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with the app as `this`
  const create = app.createContext;
  mm(app, 'createContext', function (this: Application, ...args: Parameters<Application['createContext']>) {
    const ctx = create.apply(this, args);
    const cookies = ctx.cookies;
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called with the cookies as `this`
    const get = cookies.get;
    cookies.get = (name: string, options?: Parameters<typeof get>[1]) => (Object.hasOwn(data, name) ? data[name] : get.call(cookies, name, options));
    return ctx;
  });
}

/** egg-mock's `app.mockHeaders(data)`: `ctx.get(name)` answers `data[name]` (any case), other names as before. */
export function mockHeaders(app: Application, data: Record<string, string>): void {
  const lower = new Map(Object.entries(data).map(([k, v]) => [k.toLowerCase(), v]));
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with each request as `this`
  const get = app.request.get;
  mm(app.request, 'get', function (this: typeof app.request, field: string) {
    return lower.get(field.toLowerCase()) ?? get.call(this, field);
  });
}

/** egg-mock's `app.mockCsrf()`: requests pass the CSRF check without a token (the check is `ctx.assertCsrf()`). */
export function mockCsrf(app: Application): void {
  if (typeof (app.context as { assertCsrf?: unknown }).assertCsrf !== 'function') {
    throw new ClutchError(MockErrorCode.INVALID, 'app.mockCsrf(): the security plugin is off in this app, so there is no CSRF check to pass');
  }
  mm(app.context, 'assertCsrf', () => {});
}
