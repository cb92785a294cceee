import { CoreErrorCode } from '../errors.js';

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
  /** ms (default 5000); a pair is egg's [connect, response] — their sum is the limit. */
  timeout?: number | [number, number];
  /** Follow redirects (default false, as egg's). */
  followRedirect?: boolean;
}

export interface CurlResult<T = unknown> {
  status: number;
  /** Each header's value; `set-cookie` is a list. */
  headers: Record<string, string | string[]>;
  data: T;
  res: { status: number; statusCode: number; headers: Record<string, string | string[]>; rt: number };
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
  const method = (options.method ?? 'GET').toUpperCase();
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
  const timeout = Array.isArray(options.timeout) ? options.timeout[0] + options.timeout[1] : (options.timeout ?? 5_000);
  const began = performance.now();
  let response: Response;
  let raw: Buffer;
  try {
    // The timeout covers the whole exchange: the headers and the body.
    response = await fetch(target, {
      method,
      headers,
      body: body ?? null,
      redirect: options.followRedirect ? 'follow' : 'manual',
      signal: AbortSignal.timeout(timeout),
    });
    raw = Buffer.from(await response.arrayBuffer());
  } catch (err) {
    const timedOut = (err as Error).name === 'TimeoutError';
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
  const head: Record<string, string | string[]> = Object.fromEntries(response.headers);
  // Several Set-Cookie headers do not fold into one: a list, as urllib gives.
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) head['set-cookie'] = cookies;
  const status = response.status;
  return { status, headers: head, data: data as T, res: { status, statusCode: status, headers: head, rt: Math.round(performance.now() - began) } };
}

/** egg's `app.httpclient` (also on the agent and `ctx`): the same client as `curl`. */
export interface HttpClient {
  request: typeof curl;
  curl: typeof curl;
}
