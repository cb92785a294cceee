import { takesMessages, type ChildHandle } from './child-handle.js';
import type { Children } from './children.js';
import { Dashboard, type WorkerFigures } from './dashboard.js';
import { HealthServer } from './health-server.js';
import type { HttpCounts } from './http-stats.js';
import { logHealth, type Logger } from './logger.js';
import { ClusterErrorCode } from './errors.js';
import { MemorySampler, describeSampleError } from './memory-sample.js';
import { addHttp, emptyHttp, renderClusterMetrics, renderProjectMetrics, type ProcessFigures } from './metrics.js';
import type { LeaderMessage, MetricsMessage, ScheduleRunMessage } from './protocol.js';
import { RunStats, type RunRecord } from './run-stats.js';
import type { ReadinessReport } from './readiness.js';
import type { RestartLog, SlotKey } from './restart-log.js';
import { childStatus, OwnVitals, type ClusterStatus } from './status.js';
import type { Watchdog } from './watchdog.js';

/** What the monitor reads of the master. */
export interface MonitorHost {
  readonly title: string;
  readonly baseDir: string;
  readonly env: string;
  /** 'ready' | 'reloading' | 'starting' | 'stopping' | 'dead', as status shows the master. */
  masterState(): ClusterStatus['master']['state'];
  url(): string | null;
  /** The agent and the live workers with their slots. */
  readonly children: Pick<Children, 'agent' | 'bySlot'>;
  /** What /readyz answers, and why (readiness.ts). */
  readiness(): ReadinessReport;
  workersInRotation(): number;
  waitingConnections(): number;
  messenger(): { queued: number; refused: number; bytes: Array<{ target: string; bytes: number }> };
  /** Where the master's own sampling failures are said. */
  readonly logger: Logger;
}

/** Responses counted in `http`. */
const served = (http: HttpCounts) => http.classes.reduce((n, c) => n + c, 0);

/** How long a scrape waits for the workers' own metrics, ms. */
const COLLECT_TIMEOUT_MS = 2_000;

/**
 * What operators see of the cluster: `app status`, the health port and /metrics. It owns the
 * figures that outlive a process (the HTTP counts of exited workers: counters never go back) and
 * the master's own vitals; the watchdog owns each child's; the restart log owns the restarts.
 */
export class Monitor {
  readonly #host: MonitorHost;
  readonly #watchdog: Watchdog;
  readonly #restarts: RestartLog;
  readonly #own: OwnVitals;
  /** HTTP counts of workers that exited, so that the cluster's counters only grow. */
  readonly #retiredHttp: HttpCounts = emptyHttp();
  /** 503s of load shedding by workers that exited, by slot (the counter only grows). */
  readonly #retiredShed = new Map<number, number>();
  /** The agent's schedule runs (clutch_schedule_* in /metrics). */
  readonly #schedules = new RunStats('clutch_schedule', 'schedule', 'the schedules');
  /** Each live worker's HTTP counts as the last scrape got them (fresher than its last heartbeat). */
  readonly #scraped = new Map<number, HttpCounts>();
  #health: HealthServer | null = null;
  /** The dashboard's history, kept only while the health port is open. */
  #dashboard: Dashboard | null = null;
  #nextCollect = 1;
  /** The agent's last word on leadership, and the elections of agents before it. */
  #leader: { pid: number; state: LeaderMessage } | null = null;
  #pastTransitions = 0;
  readonly #collecting = new Map<number, (message: MetricsMessage) => void>();

  constructor(host: MonitorHost, watchdog: Watchdog, restarts: RestartLog) {
    this.#host = host;
    this.#watchdog = watchdog;
    this.#restarts = restarts;
    this.#own = new OwnVitals(new MemorySampler(describeSampleError(host.logger, ClusterErrorCode.SAMPLE_FAILED)));
  }

  get healthUrl(): string | null {
    return this.#health?.url ?? null;
  }

  /** Opens the health port (once). */
  async openHealth(port: number, hostname: string | undefined): Promise<string> {
    if (this.#health) return this.#health.url;
    const dashboard = new Dashboard({
      status: () => this.status(),
      workers: () => this.#workerFigures(),
      readiness: () => this.#host.readiness(),
      reloads: () => ({ count: this.#restarts.reloads, lastAt: Math.max(0, ...this.#restarts.reloadRuns.records().map((r) => r.last?.at ?? 0)) || null }),
    });
    try {
      this.#health = await HealthServer.open(port, hostname, {
        readiness: () => this.#host.readiness(),
        metrics: () => this.metrics(),
        dashboard: () => dashboard.data(),
      });
    } catch (err) {
      dashboard.stop();
      throw err;
    }
    this.#dashboard = dashboard;
    return this.#health.url;
  }

  /** A worker is gone: what it served stays counted, as of the latest figures heard from it (a heartbeat or a scrape). */
  workerExited(worker: ChildHandle, slot: number): void {
    const shed = this.#watchdog.vitals(worker)?.last?.shed?.total ?? 0;
    if (shed > 0) this.#retiredShed.set(slot, (this.#retiredShed.get(slot) ?? 0) + shed);
    const beat = this.#watchdog.vitals(worker)?.last?.http;
    const scraped = this.#scraped.get(worker.pid);
    this.#scraped.delete(worker.pid);
    // The counts only grow: the larger total is the later.
    const http = beat && scraped ? (served(scraped) > served(beat) ? scraped : beat) : (beat ?? scraped);
    if (http) addHttp(this.#retiredHttp, http);
  }

  /** The agent says whether this cluster leads. */
  leader(agent: ChildHandle, state: LeaderMessage): void {
    if (this.#leader && this.#leader.pid !== agent.pid) this.#pastTransitions += this.#leader.state.transitions;
    this.#leader = { pid: agent.pid, state };
  }

  /** The agent ran a schedule. */
  scheduleRan(message: ScheduleRunMessage): void {
    this.#schedules.record(message.key, message.ms, message.ok);
  }

  /** Each schedule's runs, failures and last run, for `app status`. */
  schedules(): RunRecord[] {
    return this.#schedules.records();
  }

  /** A worker answered a metrics collection. */
  received(message: MetricsMessage): void {
    this.#collecting.get(message.id)?.(message);
  }

  close(): void {
    this.#health?.close();
    this.#dashboard?.stop();
    this.#own.stop();
  }

  async status(): Promise<ClusterStatus> {
    const own = this.#own.latest;
    const agent = this.#host.children.agent;
    const status = async (handle: ChildHandle, slot: SlotKey) =>
      childStatus(handle, this.#watchdog.vitals(handle), this.#restarts.restarts(slot), this.#restarts.last(slot));
    return {
      master: {
        pid: process.pid,
        state: this.#host.masterState(),
        uptime: Math.round(process.uptime() * 1000),
        restarts: 0,
        lastRestart: null,
        rss: own.rss,
        heapUsed: own.heapUsed,
        cpu: own.cpu,
        loopDelay: own.loopDelay,
        logs: logHealth(),
        responsive: true,
        shed: null,
        title: this.#host.title,
        baseDir: this.#host.baseDir,
        env: this.#host.env,
        url: this.#host.url(),
        health: this.healthUrl,
        waitingConnections: this.#host.waitingConnections(),
      },
      agent: agent ? await status(agent, 'agent') : null,
      leader: this.#leaderNow(),
      schedules: this.#schedules.records(),
      workers: await Promise.all(this.#host.children.bySlot().map(async ({ worker, slot }) => ({ ...(await status(worker, slot)), slot }))),
    };
  }

  /** The text of /metrics: Clutch's own series, then the project's, merged over the workers. */
  async metrics(): Promise<string> {
    // First the workers' answers: their HTTP counts as of now, and the project's metrics.
    const collected = await this.#collect();
    const fresh = new Map(collected.map((c) => [c.pid, c.http]));
    for (const [pid, http] of fresh) if (http) this.#scraped.set(pid, http);
    const own = this.#own.latest;
    const processes: ProcessFigures[] = [
      {
        role: 'master',
        pid: process.pid,
        slot: '',
        cpuSeconds: own.cpuSeconds,
        rss: own.rss,
        heapUsed: own.heapUsed,
        loopMean: own.loopDelay.mean,
        loopP99: own.loopDelay.p99,
        logsDropped: logHealth().dropped,
      },
    ];
    const http = emptyHttp();
    addHttp(http, this.#retiredHttp);
    const child = (handle: ChildHandle, role: 'agent' | 'worker', slot: string) => {
      const beat = this.#watchdog.vitals(handle)?.last;
      if (!beat) return;
      processes.push({
        role,
        pid: handle.pid,
        slot,
        cpuSeconds: (beat.cpu.user + beat.cpu.system) / 1e6,
        rss: beat.rss,
        heapUsed: beat.heapUsed,
        loopMean: beat.loop.mean,
        loopP99: beat.loop.p99,
        logsDropped: handle.logHealth.dropped,
      });
      const served = fresh.get(handle.pid) ?? beat.http;
      if (served) addHttp(http, served);
    };
    const agent = this.#host.children.agent;
    if (agent) child(agent, 'agent', '');
    const shed = new Map<number, { active: boolean; total: number }>();
    for (const [slot, total] of this.#retiredShed) shed.set(slot, { active: false, total });
    for (const { worker, slot } of this.#host.children.bySlot()) {
      child(worker, 'worker', String(slot));
      const now = this.#watchdog.vitals(worker)?.last?.shed;
      if (!now) continue;
      const sum = shed.get(slot) ?? { active: false, total: 0 };
      shed.set(slot, { active: sum.active || now.active, total: sum.total + now.total });
    }
    const ownText = renderClusterMetrics({
      processes,
      http,
      restarts: this.#restarts.totals(),
      reloads: this.#restarts.reloads,
      ready: this.#host.readiness().ready,
      workersInRotation: this.#host.workersInRotation(),
      waitingConnections: this.#host.waitingConnections(),
      messenger: this.#host.messenger(),
      shed: [...shed].sort(([a], [b]) => a - b).map(([slot, state]) => ({ slot: String(slot), ...state })),
      extra: this.#leaderMetrics() + this.#schedules.render() + this.#restarts.reloadRuns.render(),
    });
    const project = await renderProjectMetrics(
      collected.filter((c): c is { pid: number; metrics: unknown[]; http: HttpCounts | undefined } => c.metrics !== null),
    );
    return project ? `${ownText}${project}` : ownText;
  }

  /** Each worker's counts and vitals as of its last heartbeat: what the dashboard's history is made of. */
  #workerFigures(): WorkerFigures[] {
    return this.#host.children.bySlot().map(({ worker, slot }) => {
      const vitals = this.#watchdog.vitals(worker);
      const beat = vitals?.last;
      return { slot, pid: worker.pid, http: beat?.http, rss: beat?.rss ?? null, cpu: beat ? Math.round(vitals.cpuPercent * 10) / 10 : null };
    });
  }

  /** Leadership as it stands: the current agent's word (none while no agent is up). */
  #leaderNow(): ClusterStatus['leader'] {
    const agent = this.#host.children.agent;
    const state = this.#leader && agent?.pid === this.#leader.pid && agent.state !== 'dead' ? this.#leader.state : null;
    return state ? { leading: state.leading, token: state.token, store: state.store } : null;
  }

  #leaderMetrics(): string {
    const now = this.#leaderNow();
    const transitions = this.#pastTransitions + (this.#leader?.state.transitions ?? 0);
    return [
      "# HELP clutch_leader 1 while this cluster's agent leads (config.cluster.leader).",
      '# TYPE clutch_leader gauge',
      `clutch_leader{store="${now?.store ?? this.#leader?.state.store ?? 'local'}"} ${now?.leading ? 1 : 0}`,
      "# HELP clutch_leader_transitions_total Elections and losses of leadership by this cluster's agents.",
      '# TYPE clutch_leader_transitions_total counter',
      `clutch_leader_transitions_total ${transitions}`,
      '# HELP clutch_leader_term The fencing token of the lease this cluster holds (0 while it does not lead).',
      '# TYPE clutch_leader_term gauge',
      `clutch_leader_term ${now?.leading ? (now.token ?? 0) : 0}`,
      '',
    ].join('\n');
  }

  /** Asks every ready worker for the project's own metrics; a worker that does not answer in time is left out. */
  async #collect(): Promise<Array<{ pid: number; metrics: unknown[] | null; http: HttpCounts | undefined }>> {
    const asked = this.#host.children.bySlot().filter(({ worker }) => takesMessages(worker.state));
    type Answer = { pid: number; metrics: unknown[] | null; http: HttpCounts | undefined };
    const answers = await Promise.all(
      asked.map(
        ({ worker }) =>
          new Promise<Answer | null>((resolve) => {
            const id = this.#nextCollect++;
            const timer = setTimeout(() => finish(null), COLLECT_TIMEOUT_MS);
            const finish = (message: MetricsMessage | null) => {
              clearTimeout(timer);
              this.#collecting.delete(id);
              resolve(message ? { pid: worker.pid, metrics: message.metrics, http: message.http } : null);
            };
            this.#collecting.set(id, finish);
            if (!worker.send({ clutch: 'collect-metrics', id })) finish(null);
          }),
      ),
    );
    return answers.filter((a): a is Answer => a !== null);
  }
}
