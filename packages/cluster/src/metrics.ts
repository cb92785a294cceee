/**
 * /metrics: the cluster's own figures (`clutch_*`) in the Prometheus text format, merged by the
 * master from every process's heartbeats, and the project's own prom-client metrics merged across
 * the workers. Per-worker registries make every scrape show one worker (prom-client#82); the master
 * relays every heartbeat anyway, so it is the one place that sees the whole cluster.
 */
import { DURATION_BUCKETS, type HttpCounts } from './http-stats.js';

export interface ProcessFigures {
  role: 'master' | 'agent' | 'worker';
  pid: number;
  /** The worker slot, or '' for the master and the agent. */
  slot: string;
  cpuSeconds: number;
  rss: number;
  heapUsed: number;
  loopMean: number;
  loopP99: number;
  logsDropped: number;
}

export interface ClusterFigures {
  processes: ProcessFigures[];
  /** Responses of every worker, the exited ones included (counters never go back). */
  http: HttpCounts;
  restarts: Array<{ role: 'agent' | 'worker'; reason: string; count: number }>;
  reloads: number;
  ready: boolean;
  workersInRotation: number;
  waitingConnections: number;
  messenger: { queued: number; refused: number; bytes: Array<{ target: string; bytes: number }> };
  /** Load shedding by worker slot (only with config.cluster.overload): shedding now, 503s so far. */
  shed: Array<{ slot: string; active: boolean; total: number }>;
  /** Extra series, already rendered (the leader's, when there is one). */
  extra?: string;
}

/** Escapes a label value as the text format wants it. */
function label(value: string | number): string {
  return String(value).replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

class Text {
  readonly #lines: string[] = [];

  family(name: string, type: 'counter' | 'gauge' | 'histogram', help: string): this {
    this.#lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    return this;
  }

  sample(name: string, labels: Record<string, string | number>, value: number): this {
    const keys = Object.keys(labels);
    const set = keys.length > 0 ? `{${keys.map((k) => `${k}="${label(labels[k]!)}"`).join(',')}}` : '';
    this.#lines.push(`${name}${set} ${Number.isFinite(value) ? value : 0}`);
    return this;
  }

  toString(): string {
    return `${this.#lines.join('\n')}\n`;
  }
}

/** Sums HTTP counts (a worker's into the cluster's). */
export function addHttp(into: HttpCounts, more: HttpCounts): void {
  for (let i = 0; i < into.classes.length; i++) into.classes[i] = into.classes[i]! + (more.classes[i] ?? 0);
  for (let i = 0; i < into.buckets.length; i++) into.buckets[i] = into.buckets[i]! + (more.buckets[i] ?? 0);
  into.sum += more.sum;
}

export function emptyHttp(): HttpCounts {
  return { classes: [0, 0, 0, 0, 0], buckets: new Array<number>(DURATION_BUCKETS.length + 1).fill(0), sum: 0 };
}

/** Renders Clutch's own series. Every name is listed in docs/metrics.md. */
export function renderClusterMetrics(f: ClusterFigures): string {
  const t = new Text();
  const per = (p: ProcessFigures) => ({ role: p.role, pid: p.pid, slot: p.slot });
  t.family('clutch_process_cpu_seconds_total', 'counter', 'CPU time (user and system) of each process of the cluster.');
  for (const p of f.processes) t.sample('clutch_process_cpu_seconds_total', per(p), p.cpuSeconds);
  t.family('clutch_process_resident_memory_bytes', 'gauge', 'Resident set size of each process.');
  for (const p of f.processes) t.sample('clutch_process_resident_memory_bytes', per(p), p.rss);
  t.family('clutch_process_heap_used_bytes', 'gauge', 'V8 heap in use in each process.');
  for (const p of f.processes) t.sample('clutch_process_heap_used_bytes', per(p), p.heapUsed);
  t.family('clutch_process_event_loop_delay_seconds', 'gauge', 'Event-loop delay of each process over its last heartbeat interval (mean and p99).');
  for (const p of f.processes) {
    t.sample('clutch_process_event_loop_delay_seconds', { ...per(p), stat: 'mean' }, p.loopMean / 1000);
    t.sample('clutch_process_event_loop_delay_seconds', { ...per(p), stat: 'p99' }, p.loopP99 / 1000);
  }
  t.family('clutch_log_lines_dropped_total', 'counter', 'Log lines a process could not write (a full or read-only disk).');
  for (const p of f.processes) t.sample('clutch_log_lines_dropped_total', per(p), p.logsDropped);

  t.family('clutch_http_requests_total', 'counter', 'Responses of every worker by status class.');
  f.http.classes.forEach((n, i) => t.sample('clutch_http_requests_total', { status_class: `${i + 1}xx` }, n));
  t.family('clutch_http_request_duration_seconds', 'histogram', 'Time from a request to the end of its response, summed over the workers.');
  let cumulative = 0;
  DURATION_BUCKETS.forEach((le, i) => {
    cumulative += f.http.buckets[i] ?? 0;
    t.sample('clutch_http_request_duration_seconds_bucket', { le }, cumulative);
  });
  cumulative += f.http.buckets[DURATION_BUCKETS.length] ?? 0;
  t.sample('clutch_http_request_duration_seconds_bucket', { le: '+Inf' }, cumulative);
  t.sample('clutch_http_request_duration_seconds_sum', {}, f.http.sum);
  t.sample('clutch_http_request_duration_seconds_count', {}, cumulative);

  t.family('clutch_restarts_total', 'counter', 'Processes replaced, by role and reason (crash, stalled, memory, reload).');
  for (const r of f.restarts) t.sample('clutch_restarts_total', { role: r.role, reason: r.reason }, r.count);
  t.family('clutch_reloads_total', 'counter', 'Reloads that completed.');
  t.sample('clutch_reloads_total', {}, f.reloads);
  t.family('clutch_ready', 'gauge', '1 while /readyz answers 200.');
  t.sample('clutch_ready', {}, f.ready ? 1 : 0);
  t.family('clutch_workers_in_rotation', 'gauge', 'Workers the master hands connections to.');
  t.sample('clutch_workers_in_rotation', {}, f.workersInRotation);
  t.family('clutch_connections_waiting', 'gauge', 'Connections waiting in the master for a worker.');
  t.sample('clutch_connections_waiting', {}, f.waitingConnections);
  t.family('clutch_messenger_queued_messages', 'gauge', 'Messages waiting in the master for a process that is not ready, or unacknowledged by the agent.');
  t.sample('clutch_messenger_queued_messages', {}, f.messenger.queued);
  t.family('clutch_messenger_queued_bytes', 'gauge', 'Payload bytes the master holds for each target (queued, or unacknowledged by the agent).');
  for (const b of f.messenger.bytes) t.sample('clutch_messenger_queued_bytes', { target: b.target }, b.bytes);
  t.family('clutch_messenger_refused_total', 'counter', 'Messages the master refused (queue full, unknown target, dropped).');
  t.sample('clutch_messenger_refused_total', {}, f.messenger.refused);
  if (f.shed.length > 0) {
    t.family('clutch_shed_total', 'counter', 'Requests answered 503 by load shedding (config.cluster.overload), by worker slot.');
    for (const s of f.shed) t.sample('clutch_shed_total', { slot: s.slot }, s.total);
    t.family('clutch_shedding', 'gauge', '1 while the worker in this slot sheds load.');
    for (const s of f.shed) t.sample('clutch_shedding', { slot: s.slot }, s.active ? 1 : 0);
  }
  return t.toString() + (f.extra ?? '');
}

type MetricJson = { name: string; type: string; values?: Array<{ labels?: Record<string, unknown> }> };

/**
 * Merges the project's prom-client metrics from every worker with prom-client's own aggregation
 * (counters and histograms summed); a gauge keeps one series per worker, labelled with its `pid`.
 * `perWorker` pairs each worker's pid with its `register.getMetricsAsJSON()`.
 */
export async function renderProjectMetrics(perWorker: Array<{ pid: number; metrics: unknown[] }>): Promise<string> {
  if (perWorker.length === 0) return '';
  // Loaded only when a project has metrics to merge: a master never scraped never pays for it.
  const { AggregatorRegistry } = await import('prom-client');
  const arrays = perWorker.map(({ pid, metrics }) =>
    (metrics as MetricJson[]).map((m) => (m.type === 'gauge' ? { ...m, values: (m.values ?? []).map((v) => ({ ...v, labels: { ...v.labels, pid } })) } : m)),
  );
  return AggregatorRegistry.aggregate(arrays).metrics();
}
