import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fixture, runApp, startFixture, type AppProcess } from '../helpers/cluster.ts';

/** One export request the receiver got: its content type and body. */
interface Export {
  type: string;
  body: Buffer;
}

/**
 * A tiny OTLP/HTTP receiver on loopback: it keeps every POST /v1/traces and wakes the waiters. What
 * the cluster's processes export (docs/operations.md) is what a collector would get.
 */
class Receiver {
  readonly exports: Export[] = [];
  readonly #server: Server;
  readonly #waiters = new Set<() => void>();

  constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/v1/traces') this.exports.push({ type: req.headers['content-type'] ?? '', body: Buffer.concat(chunks) });
        res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/json' }).end('{}');
        for (const wake of this.#waiters) wake();
      });
    });
  }

  async listen(): Promise<string> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    return `http://127.0.0.1:${this.port}`;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Resolves once `done()` holds after an export (or at once), rejects past the deadline. */
  until<T>(done: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const value = done();
        if (value === undefined) return;
        finish();
        resolve(value);
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`no ${what} within ${timeoutMs}ms (${this.exports.length} exports)`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
      check();
    });
  }

  close(): void {
    this.#server.closeAllConnections();
    this.#server.close();
  }
}

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
}
interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  resource: Record<string, string | number>;
}

/** The spans of every OTLP/JSON export, each with its resource's attributes. */
function jsonSpans(exports: Export[]): Span[] {
  const spans: Span[] = [];
  for (const e of exports.filter((x) => x.type.startsWith('application/json'))) {
    const body = JSON.parse(e.body.toString('utf8')) as {
      resourceSpans: Array<{ resource: { attributes: Array<{ key: string; value: OtlpValue }> }; scopeSpans: Array<{ spans: Span[] }> }>;
    };
    for (const rs of body.resourceSpans) {
      const resource: Record<string, string | number> = {};
      for (const { key, value } of rs.resource.attributes) resource[key] = value.stringValue ?? Number(value.intValue);
      for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ ...s, resource });
    }
  }
  return spans;
}

/** GET with a W3C traceparent the test chose: the worker's HTTP span joins that trace. */
function getTraced(url: string, traceparent: string): Promise<{ status: number; body: { pid: number; agent: number } }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: { traceparent, connection: 'close' } }, (res) => {
      let raw = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (raw += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(raw) as { pid: number; agent: number } }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** What the probe (test/fixtures/telemetry/probe.cjs) wrote at each process's exit: pid → @opentelemetry packages. */
function loadedPackages(dir: string): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const file of readdirSync(dir)) {
    const { pid, packages } = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { pid: number; packages: string[] };
    out.set(pid, packages);
  }
  return out;
}

/** JSON log lines of the cluster whose msg matches. */
function logLines(app: AppProcess, msg: RegExp): Array<Record<string, unknown>> {
  return app.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((r) => typeof r.msg === 'string' && msg.test(r.msg));
}

const newTrace = () => ({ traceId: randomBytes(16).toString('hex'), parent: randomBytes(8).toString('hex') });

describe('telemetry (OpenTelemetry, opt-in)', { timeout: 120_000 }, () => {
  const cleanups: Array<() => void> = [];
  after(() => {
    for (const c of cleanups.reverse()) c();
  });

  /** Starts the fixture with a receiver and the probe in every process; stops it with SIGTERM and returns what each process loaded. */
  async function run(env: NodeJS.ProcessEnv, workers: number, given?: Receiver) {
    const receiver = given ?? new Receiver();
    const endpoint = given ? `http://127.0.0.1:${given.port}` : await receiver.listen();
    cleanups.push(() => receiver.close());
    const probeDir = mkdtempSync(join(tmpdir(), 'clutch-otel-probe-'));
    cleanups.push(() => rmSync(probeDir, { recursive: true, force: true }));
    const { app, info } = await startFixture('telemetry', ['--workers', String(workers)], {
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        OTEL_BSP_SCHEDULE_DELAY: '50',
        NODE_OPTIONS: `--require ${join(fixture('telemetry'), 'probe.cjs')}`,
        TELEMETRY_PROBE_DIR: probeDir,
        ...env,
      },
    });
    cleanups.push(() => app.kill());
    const stop = async () => {
      app.signal('SIGTERM');
      assert.deepEqual(await app.waitForExit(20_000), { code: 0, signal: null });
      return loadedPackages(probeDir);
    };
    return { receiver, app, info, stop };
  }

  it('OTLP/JSON: a worker request that asks the agent is one trace (HTTP, request, the handler, its sendToApp); the log lines name it; only the agent and workers load OpenTelemetry', async () => {
    const receiver = new Receiver();
    const endpoint = await receiver.listen();
    const { app, info, stop } = await run(
      { CLUTCH_TELEMETRY: '1', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', TELEMETRY_FETCH_URL: `${endpoint}/ping` },
      2,
      receiver,
    );
    const { traceId, parent } = newTrace();
    const answer = await getTraced(`${info.url}/ask?n=7`, `00-${traceId}-${parent}-01`);
    assert.equal(answer.status, 200);
    const worker = answer.body.pid;

    // The HTTP span, the request, the agent's handler and send, and a receive in each worker.
    const spans = await receiver.until(
      () => {
        const mine = jsonSpans(receiver.exports).filter((s) => s.traceId === traceId);
        const names = mine.map((s) => s.name);
        const whole = ['GET', 'request ask', 'handle ask', 'send told'].every((n) => names.includes(n)) && names.filter((n) => n === 'GET').length === 2;
        return whole && names.filter((n) => n === 'receive told').length === 2 ? mine : undefined;
      },
      15_000,
      'whole trace',
    );
    const one = (name: string) => {
      const found = spans.filter((s) => s.name === name);
      assert.equal(found.length, 1, `one ${name} span in ${spans.map((s) => s.name).join(', ')}`);
      return found[0]!;
    };
    // SpanKind in OTLP: 2 server, 3 client. The worker's HTTP span, and undici's for its fetch below it.
    const http = spans.find((s) => s.name === 'GET' && s.kind === 2)!;
    const fetched = spans.find((s) => s.name === 'GET' && s.kind === 3);
    assert.equal(fetched?.parentSpanId, http.spanId, "fetch() is a child span of the request's (undici instrumentation)");
    const req = one('request ask');
    const handle = one('handle ask');
    const send = one('send told');
    assert.equal(http.parentSpanId, parent, "the HTTP span continues the client's trace");
    assert.equal(req.parentSpanId, http.spanId, 'messenger.request is a child of the HTTP span');
    assert.equal(handle.parentSpanId, req.spanId, "the agent's handler is a child of the request");
    assert.equal(send.parentSpanId, handle.spanId, 'the sendToApp inside the handler is a child of it');
    const receives = spans.filter((s) => s.name === 'receive told');
    for (const r of receives) assert.equal(r.parentSpanId, send.spanId, 'sendToApp carries the sender’s context to each worker');
    assert.deepEqual(receives.map((r) => r.resource['process.pid']).sort(), [...info.workers].sort());

    // Resources: role, slot and pid; the config's service name in the agent as in the workers.
    assert.equal(http.resource['process.pid'], worker);
    assert.equal(http.resource['clutch.role'], 'worker');
    assert.equal(http.resource['clutch.slot'], info.workers.indexOf(worker));
    assert.equal(handle.resource['process.pid'], info.agent);
    assert.equal(handle.resource['clutch.role'], 'agent');
    for (const s of [http, handle]) assert.equal(s.resource['service.name'], 'telemetry-fixture');
    assert.ok(
      receiver.exports.every((e) => e.type.startsWith('application/json')),
      'OTEL_EXPORTER_OTLP_PROTOCOL=http/json',
    );

    // JSON log lines written inside a span carry its ids.
    const [handling] = logLines(app, /^handling ask 7$/);
    assert.deepEqual([handling?.trace_id, handling?.span_id], [traceId, handle.spanId]);
    const told = logLines(app, /^told 7$/);
    assert.equal(told.length, 2);
    assert.deepEqual(
      told.map((l) => l.trace_id),
      [traceId, traceId],
    );

    const loaded = await stop();
    assert.ok(
      loaded.get(app.pid)!.every((p) => p === '@opentelemetry/api'),
      `the master loads no SDK: ${loaded.get(app.pid)!.join(', ')}`,
    );
    for (const pid of [info.agent, ...info.workers]) assert.ok(loaded.get(pid)?.includes('@opentelemetry/sdk-node'), `${pid} loaded the SDK`);
  });

  it('OTLP/protobuf by default; the config alone turns it on for the workers, and the master says the agent it forked first is not traced', async () => {
    const { receiver, app, info, stop } = await run({}, 1);
    const { traceId, parent } = newTrace();
    assert.equal((await getTraced(`${info.url}/ask?n=1`, `00-${traceId}-${parent}-01`)).status, 200);
    const id = Buffer.from(traceId, 'hex');
    const found = await receiver.until(() => receiver.exports.find((e) => e.body.includes(id)), 15_000, 'export with the trace id');
    assert.equal(found.type, 'application/x-protobuf');
    await app.waitForLine(/agent \d+ started before it read the config and is not traced/, 5_000);
    const loaded = await stop();
    assert.deepEqual(loaded.get(info.agent), [], 'the agent forked before the config was read has no OpenTelemetry');
    assert.ok(loaded.get(info.workers[0]!)?.includes('@opentelemetry/sdk-node'));
  });

  it('off (CLUTCH_TELEMETRY=0 wins over the config): no OpenTelemetry module in the agent or any worker, nothing exported, no trace ids in the logs', async () => {
    const { receiver, app, info, stop } = await run({ CLUTCH_TELEMETRY: '0', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, 2);
    const { traceId, parent } = newTrace();
    assert.equal((await getTraced(`${info.url}/ask?n=3`, `00-${traceId}-${parent}-01`)).status, 200);
    await app.waitForLines(/"msg":"told 3"/, 2, 5_000);
    for (const line of [...logLines(app, /^handling ask 3$/), ...logLines(app, /^told 3$/)]) assert.equal(line.trace_id, undefined);
    const loaded = await stop();
    for (const pid of [info.agent, ...info.workers]) assert.deepEqual(loaded.get(pid), [], `${pid} loaded no @opentelemetry module`);
    // prom-client (the master's /metrics) requires @opentelemetry/api itself; nothing else of OpenTelemetry is there.
    assert.ok(loaded.get(app.pid)!.every((p) => p === '@opentelemetry/api'));
    assert.equal(receiver.exports.length, 0, 'nothing was exported, not even at the stop');
  });

  it('telemetry on in a project that cannot resolve @clutch/telemetry fails the start before any process forks', async () => {
    // Outside the repository, where nothing resolves @clutch/telemetry (nor @clutch/core: no child is forked).
    const dir = mkdtempSync(join(tmpdir(), 'clutch-otel-none-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'no-telemetry', private: true, type: 'module' }));
    const result = await runApp(['start', dir, '--port', '0'], 20_000, { CLUTCH_TELEMETRY: '1' });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /CLUTCH_ERR_TELEMETRY_NOT_INSTALLED/);
  });

  it('a CLUTCH_TELEMETRY that is neither on nor off fails the start with its code', async () => {
    const result = await runApp(['start', fixture('telemetry'), '--port', '0', '--title', `otel-bad-${process.pid}`], 20_000, { CLUTCH_TELEMETRY: 'maybe' });
    assert.notEqual(result.code, 0);
    assert.match(result.stdout + result.stderr, /CLUTCH_ERR_TELEMETRY_INVALID/);
  });
});
