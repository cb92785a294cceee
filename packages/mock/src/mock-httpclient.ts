import type { Agent, Application, CurlOptions, CurlResult } from '@clutch/core';
import mm from 'mm';
import { ClutchError, MockErrorCode } from './errors.js';

/** What a mocked request answers: egg-mock's `{ data, status, headers }`, a body alone, or a function of the request. */
export type MockHttpResult =
  string | Buffer | { data?: unknown; status?: number; headers?: Record<string, string | string[]> } | ((url: string, options: CurlOptions) => MockHttpResult);

type Curl = (url: string | URL, options?: CurlOptions) => Promise<CurlResult>;

function sameUrl(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return new URL(a).href === new URL(b).href;
  } catch {
    return false;
  }
}

function answer(result: MockHttpResult, url: string, options: CurlOptions): CurlResult {
  const given = typeof result === 'function' ? result(url, options) : result;
  if (typeof given === 'function')
    throw new ClutchError(MockErrorCode.INVALID, `app.mockHttpclient('${url}'): the function must return the result, not another function`);
  const described = typeof given === 'string' || Buffer.isBuffer(given) ? { data: given } : given;
  const status = described.status ?? 200;
  const headers = described.headers ?? {};
  const body = described.data;
  const raw = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : body === undefined ? '' : JSON.stringify(body));
  let data: unknown = raw;
  // As a real response would be read with the request's dataType.
  if (options.dataType === 'json') data = raw.length === 0 ? null : JSON.parse(raw.toString('utf8'));
  else if (options.dataType === 'text') data = raw.toString('utf8');
  return { status, headers, data, res: { status, statusCode: status, headers, rt: 0 } };
}

/**
 * egg-mock's `app.mockHttpclient(url, method?, result)`: `ctx.curl`, `app.curl`,
 * `app.httpclient.request` (and the agent's) answer a matching request with `result`, without a
 * network; any other request goes out as before. `url` is the URL (a string compared as a URL, or
 * a RegExp), `method` one, a list, or `'*'` (the default).
 */
export function mockHttpclient(hosts: Array<Application | Agent>, url: string | RegExp, args: unknown[]): void {
  // (url, result) or (url, method, result), as egg-mock takes them.
  const methodGiven = args.length >= 2;
  const methods = (methodGiven ? [args[0] as string | string[]].flat() : ['*']).map((m) => String(m).toUpperCase());
  const result = (methodGiven ? args[1] : args[0]) as MockHttpResult;
  if (result === undefined || result === null) throw new ClutchError(MockErrorCode.INVALID, `app.mockHttpclient('${String(url)}'): no result to answer with`);
  const matches = (target: string, method: string) =>
    (methods.includes('*') || methods.includes(method)) && (typeof url === 'string' ? sameUrl(url, target) : url.test(target));
  const wrap =
    (original: Curl): Curl =>
    async (target, options = {}) => {
      const href = String(target);
      return matches(href, (options.method ?? 'GET').toUpperCase()) ? answer(result, href, options) : original(target, options);
    };
  for (const host of hosts) {
    const owners: Array<Record<string, unknown>> = [host as unknown as Record<string, unknown>];
    const client = (host as unknown as { httpclient?: Record<string, unknown> }).httpclient;
    if (client) owners.push(client);
    if (host.type === 'application') {
      owners.push(host.context);
      owners.push((host.context as unknown as { httpclient: Record<string, unknown> }).httpclient);
    }
    for (const owner of owners) {
      for (const name of ['curl', 'request']) {
        if (typeof owner[name] === 'function') mm(owner, name, wrap(owner[name] as Curl));
      }
    }
  }
}
