import { request, type Agent } from 'node:http';

export interface HttpResult<T = unknown> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
}

/** What a request sends beyond its URL: a method, headers, a body (`json` is sent as JSON). */
export interface SendOptions {
  method?: string;
  headers?: Record<string, string>;
  json?: unknown;
  body?: string;
  agent?: Agent;
  /** The loopback address the connection leaves from (with sticky sessions, it picks the worker). */
  localAddress?: string;
  timeoutMs?: number;
}

/**
 * One request to a loopback URL, its answer parsed as JSON when it is JSON (else kept as text).
 * Without an agent, each request opens its own connection and closes it (`Connection: close`), so
 * round-robin spreads them over the workers.
 */
export function sendJson<T = unknown>(url: string, options: SendOptions = {}): Promise<HttpResult<T>> {
  const method = options.method ?? 'GET';
  const payload = options.json === undefined ? options.body : JSON.stringify(options.json);
  const headers = {
    ...(options.agent ? {} : { connection: 'close' }),
    ...(options.json !== undefined ? { 'content-type': 'application/json' } : {}),
    ...options.headers,
  };
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method, agent: options.agent ?? false, headers, ...(options.localAddress ? { localAddress: options.localAddress } : {}) },
      (res) => {
        let raw = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (raw += c));
        res.on('end', () => {
          let body: unknown = raw;
          try {
            body = JSON.parse(raw);
          } catch {
            // Not JSON: keep the text.
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: body as T });
        });
      },
    );
    req.setTimeout(options.timeoutMs ?? 10_000, () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** GET a JSON resource from a loopback URL (see sendJson). */
export function getJson<T = unknown>(url: string, options: { agent?: Agent; timeoutMs?: number } = {}): Promise<HttpResult<T>> {
  return sendJson<T>(url, options);
}

/** Calls `getJson` until every pid in `pids` has answered once (bounded), collecting answers per pid. */
export async function fromEveryWorker<T extends { pid: number }>(url: string, pids: number[], maxTries = 50): Promise<Map<number, T>> {
  const seen = new Map<number, T>();
  for (let i = 0; i < maxTries && seen.size < pids.length; i++) {
    const { body } = await getJson<T>(url);
    if (!seen.has(body.pid)) seen.set(body.pid, body);
  }
  if (seen.size < pids.length) throw new Error(`only ${[...seen.keys()].join(', ')} of ${pids.join(', ')} answered ${url} in ${maxTries} tries`);
  return seen;
}
