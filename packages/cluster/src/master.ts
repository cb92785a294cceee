import { EventEmitter } from 'node:events';
import type { AgentProcess } from './agent-process.js';
import { countsAsCrash, exitError } from './child-boot.js';
import type { ExitInfo } from './child-handle.js';
import type { Child } from './children.js';
import { ClusterErrorCode, ClutchError } from './errors.js';
import { createLogger, type Logger } from './logger.js';
import { agentDispatch, dispatchChildMessage, workerDispatch } from './master-dispatch.js';
import { MasterParts } from './master-parts.js';
import { normalizeOptions, type ClusterOptions } from './options.js';
import type { ParentReadyMessage } from './protocol.js';
import type { ReloadOptions, ReloadResult, RestartReason } from './reload.js';
import type { ScaleResult } from './scaler.js';
import type { ProfileKind, ProfileTarget } from './control.js';
import type { ProfileResult } from './profiles.js';
import type { ClusterStatus } from './status.js';
import { DEFAULT_BACKOFF, type BackoffOptions } from './supervisor.js';
import { ForwardState } from './forward-state.js';
import { Deadline } from './with-timeout.js';
import type { WorkerProcess } from './worker-process.js';

/** The master's own life, always forward, as a child's is (forward-state.ts). */
export type MasterState = 'idle' | 'starting' | 'ready' | 'stopping' | 'stopped';
const RANK: Record<MasterState, number> = { idle: 0, starting: 1, ready: 2, stopping: 3, stopped: 4 };

/** The master's state as `app status` says it. */
const MASTER_STATUS = { idle: 'starting', starting: 'starting', ready: 'ready', stopping: 'stopping', stopped: 'dead' } as const;

/** What `start()` resolves with, and what an IPC parent receives as `cluster-ready`. */
export type ClusterReadyInfo = ParentReadyMessage['data'];

/** How a stop went: the processes that outlived the stop timeout and were killed (their work in flight was lost). */
export interface StopResult {
  killed: Array<{ role: 'agent' | 'worker'; pid: number }>;
}

/**
 * The master process: forks the agent, waits until it is ready, forks the workers, waits until each
 * listens, relays every message between them, and stops them in order (workers, then the agent).
 * It orchestrates; what it orchestrates is in master-parts.ts.
 *
 * @example
 * const master = new Master({ baseDir, framework: import.meta.resolve('@clutch/core'), workers: 2 });
 * const info = await master.start();   // { url, port, pid, agent, workers }
 * await master.stop();
 */
export class Master extends EventEmitter<{ ready: [ClusterReadyInfo] }> {
  readonly options: ClusterOptions;
  readonly logger: Logger;
  readonly #life = new ForwardState<MasterState>(RANK, 'idle');
  readonly #parts: MasterParts;
  #readyInfo: ClusterReadyInfo | null = null;
  #stopping: Promise<StopResult> | null = null;
  /** The start's wait, while it runs: a death, a stop or the start timeout ends it. */
  #starting: Deadline | null = null;
  /** Set the moment a stop is asked for: /readyz answers 503 from then on, even during the drain delay. */
  #stopAsked = false;

  constructor(options: Partial<ClusterOptions> & Pick<ClusterOptions, 'baseDir' | 'framework'>, logger?: Logger, backoff: BackoffOptions = DEFAULT_BACKOFF) {
    super();
    this.options = normalizeOptions(options);
    this.logger = logger ?? createLogger('master');
    const parts: MasterParts = new MasterParts(this.options, this.logger, backoff, {
      state: () => this.#life.now,
      statusState: () => (this.#parts.reloader.running ? 'reloading' : MASTER_STATUS[this.#life.now]),
      url: () => this.#readyInfo?.url ?? null,
      notReady: () => this.#notReady(),
      serving: (worker, where, admitted) => this.#serving(worker, where, admitted),
    });
    this.#parts = parts;
    const { children, relay } = parts;
    children.on('agent-forked', (agent) => relay.setAgent(agent));
    children.on('worker-forked', (worker) => relay.addWorker(worker));
    children.on('agent-exit', (agent, info) => this.#agentExited(agent, info));
    children.on('worker-exit', (worker, info, slot) => this.#workerExited(worker, info, slot));
    const tables = { agent: agentDispatch(parts), worker: workerDispatch(parts) };
    children.on('message', (child, raw, socket) => dispatchChildMessage(tables, parts, child, raw, socket));
  }

  /** What /readyz answers: the master's state, the processes' checks and enough ready workers (readiness.ts). */
  get isReady(): boolean {
    return this.#parts.readiness.verdict().ready;
  }

  /** Why the master itself is not ready (started, no stop asked for, a worker in the rotation), or null. */
  #notReady(): string | null {
    if (this.#stopAsked || this.#life.past('ready')) return 'the cluster is stopping';
    if (this.#life.now !== 'ready') return 'the cluster is starting';
    return this.#parts.listen.inRotation() > 0 ? null : 'no worker is in the rotation';
  }

  get state(): MasterState {
    return this.#life.now;
  }

  /** What `app status` shows: every process with its state, uptime, restarts, memory, CPU and event-loop delay. */
  status(): Promise<ClusterStatus> {
    return this.#parts.monitor.status();
  }

  /** The text of /metrics. */
  metrics(): Promise<string> {
    return this.#parts.monitor.metrics();
  }

  /** Replaces every worker, one at a time, then the agent, with the code now on disk (reload.ts); …_RELOAD_FAILED leaves the old ones serving. */
  reload(options: ReloadOptions = { workers: true, agent: true }): Promise<ReloadResult> {
    if (this.#parts.scaler.running) return Promise.reject(new ClutchError(ClusterErrorCode.RELOAD_REFUSED, 'A scale is running; reload once it is done'));
    return this.#parts.reloader.run(options);
  }

  /** Runs `count` workers from now on (scaler.ts): CLUTCH_ERR_CLUSTER_SCALE_OUT_OF_RANGE outside 1..maxWorkers. */
  scale(count: number): Promise<ScaleResult> {
    return this.#parts.scaler.scale(count);
  }

  /** A CPU profile or heap snapshot of the master, the agent or a worker's slot (profiles.ts). */
  profile(target: ProfileTarget, kind: ProfileKind, durationMs?: number): Promise<ProfileResult> {
    return this.#parts.profiles.take(target, kind, durationMs);
  }

  /** Starts the cluster; resolves once every worker listens. On failure every child is gone before it rejects. */
  async start(): Promise<ClusterReadyInfo> {
    if (!this.#life.to('starting')) throw new ClutchError(ClusterErrorCode.INVALID_OPTION, `Cannot start a master that is ${this.#life.now}`);
    const { children, relay, listen, monitor, settings } = this.#parts;
    listen.checkSupported();
    const began = Date.now();
    const { startTimeout, workers: count } = this.options;
    children.setup();
    const deadline = new Deadline(
      startTimeout,
      () =>
        new ClutchError(ClusterErrorCode.START_TIMEOUT, `The cluster was not ready within ${startTimeout}ms; still starting: ${children.booting() || 'none'}`),
    );
    this.#starting = deadline;
    try {
      await deadline.race(this.#parts.prepare());
      // A health port asked for on the command line answers /livez from the start; one in the
      // project's config, once the agent has read it.
      const early = settings.health;
      if (early) await monitor.openHealth(early.port, early.hostname);
      const agent = children.forkAgent();
      // The workers load their modules while the agent boots; none boots (runs a hook) before the
      // agent is ready, when each is released. What the agent sends them meanwhile waits for them.
      const gated = Array.from({ length: count }, (_, slot) => children.forkWorker(slot, false, true));
      relay.closeBacklog();
      await deadline.race(agent.boot.promise);
      const health = settings.health;
      if (health && !early) await deadline.race(monitor.openHealth(health.port, health.hostname));
      // Each is released once it asked (it has loaded its modules): a release sent earlier could reach a worker still linking them.
      const workers = await deadline.race(Promise.all(gated.map((worker, slot) => worker.loaded.then(() => this.#release(worker, slot)))));
      await deadline.race(Promise.all(workers.map((w) => w.boot.promise)));
    } catch (err) {
      deadline.end();
      // The caller reports a failure (the app command: once, with the cause's stack); a stop asked
      // during the start is not one, and is only noted here.
      if ((err as { code?: string }).code === ClusterErrorCode.START_ABORTED)
        this.logger.warn('start failed [%s]: %s', ClusterErrorCode.START_ABORTED, (err as Error).message);
      await this.stop();
      throw err;
    } finally {
      deadline.end();
      this.#starting = null;
    }
    this.#life.to('ready');
    const info = this.#readyInfo!;
    info.agent = children.agent!.pid;
    // Not a worker of the start forked again (#release), which may still be exiting.
    info.workers = children.workers.filter((w) => !w.retired).map((w) => w.pid);
    const health = monitor.healthUrl;
    if (health) info.health = health;
    const { title } = this.options;
    this.logger.info(
      '%s started on %s (%sagent %d, %d workers) in %dms',
      title,
      info.url,
      health ? `health on ${health}; ` : '',
      info.agent,
      info.workers.length,
      Date.now() - began,
    );
    relay.broadcast({ clutch: 'cluster-ready', url: info.url });
    if (process.send && process.connected) process.send({ action: 'cluster-ready', data: info } satisfies ParentReadyMessage);
    this.emit('ready', info);
    return info;
  }

  /** A worker of the start boots now; one the project's config wants traced is forked again, with OpenTelemetry loaded first. */
  #release(worker: WorkerProcess, slot: number): WorkerProcess {
    const { children, stopper } = this.#parts;
    if (children.release(worker)) return worker;
    void stopper.retire(worker, 'stop');
    return children.forkWorker(slot);
  }

  /** Stops gracefully, workers then the agent; one outliving `timeout` gets SIGKILL and is named in the result. Safe to call twice, and during the start. */
  stop(timeout = this.options.stopTimeout): Promise<StopResult> {
    if (this.#stopping) return this.#stopping;
    this.#stopAsked = true;
    const delay = this.#life.now === 'ready' ? this.#parts.settings.drainDelay : 0;
    this.#stopping = (async (): Promise<StopResult> => {
      if (delay > 0) {
        // Readiness fails at once; the workers go on serving while the orchestrator takes this
        // instance out of its endpoints (Kubernetes does both at the same time on a delete).
        this.logger.info('stopping in %dms: /readyz answers 503, the workers keep serving until then', delay);
        await new Promise((r) => setTimeout(r, delay));
      }
      this.#starting?.abort(new ClutchError(ClusterErrorCode.START_ABORTED, 'The cluster was asked to stop while starting'));
      this.#life.to('stopping');
      const { supervisor, watchdog, listen, stopper, children, monitor } = this.#parts;
      supervisor.stop();
      watchdog.stop();
      // No new connection is accepted; the workers finish what they have.
      listen.closeAll();
      const killed = await stopper.stopAll(children.workers, children.agent, timeout);
      this.#life.to('stopped');
      monitor.close();
      const names = killed.map((k) => `${k.role} ${k.pid}`).join(', ');
      if (names) this.logger.warn('%s stopped; %s outlived the stop timeout and had to be killed', this.options.title, names);
      else this.logger.info('%s stopped', this.options.title);
      return { killed };
    })();
    return this.#stopping;
  }

  /** A worker serves (in whatever mode): it counts as booted, unless a stop came meanwhile (then the stop order, which it may have missed while loading, goes again). */
  #serving(worker: WorkerProcess, where: { url: string; port: number | null }, admitted: boolean): void {
    if (!admitted) return worker.resendStop();
    this.#readyInfo ??= { url: where.url, port: where.port, pid: process.pid, agent: 0, workers: [] };
    if (worker.listening()) this.#parts.watchdog.watch(worker);
  }

  /** Tells every child to reopen its log files (after logrotate): over IPC, as SIGUSR1 would open an inspector port in a child too young to handle it. */
  reopenLogs(): void {
    for (const child of this.#parts.children.all()) child.send({ clutch: 'reopen-logs' });
  }

  /** The agent died: messages for it wait for the next one, which supervision forks (at most one agent runs). */
  #agentExited(agent: AgentProcess, info: ExitInfo): void {
    const { watchdog, relay, supervisor } = this.#parts;
    watchdog.forget(agent);
    relay.agentExited(agent);
    relay.broadcastPids();
    if (!this.#mustReplace(agent, info)) return;
    supervisor.agentDied(Date.now() - agent.startedAt, () => this.#replaceAgent(), countsAsCrash(agent, info));
  }

  /** A worker died: its request counts stay in the totals, what it was handed and never received goes to another worker. */
  #workerExited(worker: WorkerProcess, info: ExitInfo, slot: number): void {
    const { monitor, watchdog, relay, listen, supervisor } = this.#parts;
    // Its request counts stay in the totals (a counter never goes back), then its vitals go.
    monitor.workerExited(worker, slot);
    watchdog.forget(worker);
    relay.removeWorker(worker);
    listen.exited(worker);
    relay.broadcastPids();
    // A reload's candidate that died is the reload's failure, not a crash to replace.
    if (worker.candidate || !this.#mustReplace(worker, info)) return;
    const reason = worker.killedFor ?? 'crash';
    supervisor.workerDied(slot, Date.now() - worker.startedAt, () => this.#replaceWorker(slot, reason), countsAsCrash(worker, info));
  }

  /** Whether supervision replaces a dead child: only once the cluster is ready, and never one ended on purpose. */
  #mustReplace(child: Child, info: ExitInfo): boolean {
    // A death after its own boot but before the whole cluster is ready fails the start too.
    if (this.#life.now === 'starting' && !child.retired) this.#starting?.abort(exitError(child, info.code, info.signal));
    if (this.#life.now !== 'ready' || child.retired) return false;
    const why = child.boot.error ? `: ${exitError(child, info.code, info.signal).message}` : '';
    this.logger.error('%s %d exited (code %s, signal %s)%s', child.role, child.pid, info.code, info.signal, why);
    return true;
  }

  /** Supervision's refork of a dead agent, unless a reload replaced it already; it runs serverDidReady once ready. */
  #replaceAgent(): void {
    const agent = this.#parts.children.agent;
    if (this.#life.now !== 'ready' || (agent && agent.state !== 'dead')) return;
    this.#superviseReplacement(this.#parts.children.forkAgent(), 'agent', agent?.killedFor ?? 'crash', 'agent %d replaced the dead agent');
  }

  /** Supervision's refork of a dead worker in its slot; it runs serverDidReady once it listens (only it). */
  #replaceWorker(slot: number, reason: RestartReason): void {
    // A slot scaled away while its refork waited stays away.
    if (this.#life.now !== 'ready' || !this.#parts.scaler.keeps(slot)) return;
    this.#superviseReplacement(this.#parts.children.forkWorker(slot), slot, reason, `worker %d (slot ${slot}) replaced a dead worker`);
  }

  #superviseReplacement(child: Child, slot: number | 'agent', reason: RestartReason, line: string): void {
    const { restarts, supervisor } = this.#parts;
    restarts.record(slot, reason);
    const booted = child.boot.promise;
    supervisor.bootDeadline(`${child.role} ${child.pid}`, booted, () => child.kill('SIGKILL'));
    void booted.then(
      () => {
        this.logger.info(line, child.pid);
        child.send({ clutch: 'cluster-ready', url: this.#readyInfo!.url });
      },
      () => {},
    );
  }
}
