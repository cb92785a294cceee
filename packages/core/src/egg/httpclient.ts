import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import ms from 'ms';
import { ClutchError, CoreErrorCode } from '../errors.js';

/** A duration as urllib takes it: ms, or a string like `'30s'` or `'1.5m'`. */
type Duration = number | string;

/** egg's (urllib's) request options, as `ctx.curl(url, options)` takes them. */
export interface CurlOptions {
  method?: string;
  /** Query parameters for GET and HEAD; the body otherwise (form-encoded, or JSON with `contentType: 'json'`). */
  data?: Record<string, unknown>;
  /** A body as is (a string or bytes). */
  content?: string | Uint8Array;
  /** `'json'` sends `data` as JSON; `'form'` (the default) form-encoded; anything else is the Content-Type header. */
  contentType?: string;
  /** How to read the response: `'json'`, `'text'`, or bytes (default). */
  dataType?: 'json' | 'text' | 'buffer';
  headers?: Record<string, string>;
  /** ms or urllib's string (`'30s'`; default 5 s); a pair is egg's [connect, response] — their sum is the limit. */
  timeout?: Duration | [Duration, Duration];
  /** Follow redirects (default false, as egg's). */
  followRedirect?: boolean;
  /** urllib's: `res.res` is the body as a readable stream and `data` is null; the timeout covers the headers. */
  streaming?: boolean;
  /** urllib's: accepted; Node's fetch always takes gzip, deflate and br. */
  gzip?: boolean;
  /** urllib's name of `method`. */
  type?: string;
}

/** What curl takes: anything else is refused with CLUTCH_ERR_HTTPCLIENT_OPTION_INVALID rather than ignored. */
const OPTIONS = new Set(['method', 'type', 'data', 'content', 'contentType', 'dataType', 'headers', 'timeout', 'followRedirect', 'streaming', 'gzip']);

function invalid(url: string | URL, message: string): ClutchError {
  return new ClutchError(CoreErrorCode.HTTPCLIENT_OPTION_INVALID, `ctx.curl(${JSON.stringify(String(url))}): ${message} (docs/coming-from-egg.md)`);
}

function durationOf(url: string | URL, value: unknown): number {
  const parsed = typeof value === 'string' ? (ms(value as ms.StringValue) as number | undefined) : value;
  if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed <= 0)
    throw invalid(url, `timeout ${JSON.stringify(value)} is not a duration (ms, or like '30s'; a pair is [connect, response])`);
  return parsed;
}

/** The limit: urllib's [connect, response] pair is one limit here, their sum. */
function timeoutOf(url: string | URL, timeout: CurlOptions['timeout']): number {
  if (timeout === undefined) return 5_000;
  if (Array.isArray(timeout)) {
    if (timeout.length !== 2) throw invalid(url, `timeout ${JSON.stringify(timeout)}: a pair is [connect, response]`);
    return durationOf(url, timeout[0]) + durationOf(url, timeout[1]);
  }
  return durationOf(url, timeout);
}

export interface CurlResult<T = unknown> {
  status: number;
  /** Each header's value; `set-cookie` is a list. */
  headers: Record<string, string | string[]>;
  data: T;
  /** With `streaming: true`, also the body as a readable stream (urllib's `res`). */
  res: { status: number; statusCode: number; headers: Record<string, string | string[]>; rt: number } & Partial<Readable>;
}

function form(data: Record<string, unknown>): URLSearchParams {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(data)) {
    for (const item of Array.isArray(v) ? (v as unknown[]) : [v]) {
      if (item === undefined || item === null) continue;
      // Numbers and booleans read the same as JSON; objects go as JSON text.
      params.append(k, typeof item === 'string' ? item : JSON.stringify(item));
    }
  }
  return params;
}

/**
 * egg's `app.curl` / `ctx.curl` / `app.httpclient.request`, on Node's own fetch (undici): the same
 * options and result shape (`{ status, headers, data, res }`), and egg's error names: a timeout is an
 * `HttpClientRequestTimeoutError`, a refused or broken connection a `RequestError`, a `dataType:
 * 'json'` body that does not parse a `JSONResponseFormatError` — coded CLUTCH_ERR_HTTPCLIENT_TIMEOUT
 * or CLUTCH_ERR_HTTPCLIENT_FAILED. Any status is a result, never a throw.
 */
export async function curl<T = unknown>(url: string | URL, options: CurlOptions = {}): Promise<CurlResult<T>> {
  const unknown = Object.keys(options).filter((key) => !OPTIONS.has(key));
  if (unknown.length > 0) throw invalid(url, `${unknown.join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not taken (it takes ${[...OPTIONS].join(', ')})`);
  if (options.dataType !== undefined && !['json', 'text', 'buffer'].includes(options.dataType))
    throw invalid(url, `dataType ${JSON.stringify(options.dataType)} is not 'json', 'text' or 'buffer'`);
  const method = (options.method ?? options.type ?? 'GET').toUpperCase();
  const target = new URL(url);
  const headers = new Headers(options.headers);
  let body: string | Uint8Array | URLSearchParams | undefined;
  if (options.content !== undefined) {
    body = options.content;
    if (options.contentType === 'json' && !headers.has('content-type')) headers.set('content-type', 'application/json');
  } else if (options.data && (method === 'GET' || method === 'HEAD')) for (const [k, v] of form(options.data)) target.searchParams.append(k, v);
  else if (options.data && options.contentType === 'json') {
    body = JSON.stringify(options.data);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  } else if (options.data) body = form(options.data);
  if (options.contentType && options.contentType !== 'json' && options.contentType !== 'form' && !headers.has('content-type'))
    headers.set('content-type', options.contentType);
  if (options.dataType === 'json' && !headers.has('accept')) headers.set('accept', 'application/json');
  const timeout = timeoutOf(url, options.timeout);
  const began = performance.now();
  let response: Response;
  let raw: Buffer = Buffer.alloc(0);
  // The timeout covers the whole exchange, the headers and the body — but a stream's body is the
  // caller's to read, so there it covers the headers only.
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new DOMException('timed out', 'TimeoutError')), timeout);
  try {
    response = await fetch(target, {
      method,
      headers,
      body: body ?? null,
      redirect: options.followRedirect ? 'follow' : 'manual',
      signal: abort.signal,
    });
    if (!options.streaming) raw = Buffer.from(await response.arrayBuffer());
  } catch (err) {
    const timedOut = (err as Error).name === 'TimeoutError' || (abort.signal.aborted && (abort.signal.reason as Error | undefined)?.name === 'TimeoutError');
    throw Object.assign(
      new Error(
        `${method} ${target.href} ${timedOut ? `timed out after ${timeout}ms` : `failed: ${((err as Error).cause as Error | undefined)?.message ?? (err as Error).message}`}`,
        { cause: err },
      ),
      {
        name: timedOut ? 'HttpClientRequestTimeoutError' : 'RequestError',
        code: timedOut ? CoreErrorCode.HTTPCLIENT_TIMEOUT : CoreErrorCode.HTTPCLIENT_FAILED,
      },
    );
  } finally {
    clearTimeout(timer);
  }
  const head: Record<string, string | string[]> = Object.fromEntries(response.headers);
  // Several Set-Cookie headers do not fold into one: a list, as urllib gives.
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) head['set-cookie'] = cookies;
  const status = response.status;
  const meta = { status, statusCode: status, headers: head, rt: Math.round(performance.now() - began) };
  if (options.streaming) {
    // urllib's streaming result: res is the body, readable, with the status and headers on it.
    const stream = response.body ? Readable.fromWeb(response.body as ReadableStream<Uint8Array>) : Readable.from([]);
    return { status, headers: head, data: null as T, res: Object.assign(stream, meta) };
  }
  let data: unknown = raw;
  if (options.dataType === 'text') data = raw.toString('utf8');
  else if (options.dataType === 'json') {
    try {
      data = raw.length === 0 ? null : JSON.parse(raw.toString('utf8'));
    } catch (err) {
      throw Object.assign(new Error(`${method} ${target.href}: the response (status ${response.status}) is not JSON`, { cause: err }), {
        name: 'JSONResponseFormatError',
        code: CoreErrorCode.HTTPCLIENT_FAILED,
      });
    }
  }
  return { status, headers: head, data: data as T, res: meta };
}

/** egg's `app.httpclient` (also on the agent and `ctx`): the same client as `curl`. */
export interface HttpClient {
  request: typeof curl;
  curl: typeof curl;
}
