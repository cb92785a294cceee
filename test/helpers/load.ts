/**
 * A small loopback load generator for process tests: N concurrent request loops against one URL,
 * half on keep-alive connections and half with `Connection: close`, for a bounded time and count.
 * Any error or non-200 answer counts as a failure.
 */
import { Agent, request } from 'node:http';

export interface LoadResult {
  ok: number;
  failed: number;
  /** Failure reasons (error codes or statuses) with counts. */
  failures: Record<string, number>;
  /** What the `version` field of the answers said, with counts. */
  versions: Record<string, number>;
  /** The slowest request, ms, and how many took longer than 5 s (a connection left hanging). */
  maxMs: number;
  over5s: number;
}

function once(url: string, agent: Agent | false): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers: agent ? {} : { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', reject);
    req.end();
  });
}

export interface Load {
  /** Resolves when the time is up (or `stop()` was called) and every loop has finished. */
  done: Promise<LoadResult>;
  stop(): void;
  /** Answers so far. */
  readonly result: LoadResult;
}

/**
 * `connections` loops alternate keep-alive and Connection: close (or are all Connection: close with `allClose`), each sending its next request at
 * once — or, with `paceMs`, that long after the last one began (a steady trickle that keeps requests in
 * flight without taking the CPU the cluster under test needs: the full-speed loads are soak tests).
 * `idleClients` more keep-alive loops pause 200–1500 ms between requests, so their connection
 * is idle now and then — the case a reload must not cut.
 */
export function startLoad(
  url: string,
  options: { connections: number; idleClients?: number; durationMs: number; maxRequests?: number; allClose?: boolean; paceMs?: number },
): Load {
  const result: LoadResult = { ok: 0, failed: 0, failures: {}, versions: {}, maxMs: 0, over5s: 0 };
  const deadline = Date.now() + options.durationMs;
  const max = options.maxRequests ?? 2_000_000;
  let stopped = false;
  const agents: Agent[] = [];
  const loop = async (agent: Agent | false, pause = false) => {
    while (!stopped && Date.now() < deadline && result.ok + result.failed < max) {
      if (pause) await new Promise((r) => setTimeout(r, 200 + Math.random() * 1300));
      const began = Date.now();
      const timed = () => {
        const ms = Date.now() - began;
        if (ms > result.maxMs) result.maxMs = ms;
        if (ms > 5_000) result.over5s++;
      };
      try {
        const { status, body } = await once(url, agent);
        if (status === 200) {
          result.ok++;
          const version = (JSON.parse(body) as { version?: string }).version ?? 'none';
          result.versions[version] = (result.versions[version] ?? 0) + 1;
        } else {
          result.failed++;
          result.failures[`status ${status}`] = (result.failures[`status ${status}`] ?? 0) + 1;
        }
        timed();
      } catch (err) {
        timed();
        result.failed++;
        const code = (err as { code?: string }).code ?? (err as Error).message;
        result.failures[code] = (result.failures[code] ?? 0) + 1;
      }
      const rest = (options.paceMs ?? 0) - (Date.now() - began);
      if (rest > 0) await new Promise((r) => setTimeout(r, rest));
    }
  };
  const loops: Promise<void>[] = [];
  for (let i = 0; i < options.connections; i++) {
    if (i % 2 === 0 && !options.allClose) {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      agents.push(agent);
      loops.push(loop(agent));
    } else {
      loops.push(loop(false));
    }
  }
  for (let i = 0; i < (options.idleClients ?? 0); i++) {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    loops.push(loop(agent, true));
  }
  const done = Promise.all(loops).then(() => {
    for (const a of agents) a.destroy();
    return result;
  });
  return {
    done,
    result,
    stop: () => {
      stopped = true;
    },
  };
}
