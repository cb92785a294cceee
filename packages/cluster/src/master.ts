import cluster from 'node:cluster';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { AgentProcess } from './agent-process.js';
import { exitError, killedFromOutside } from './child-boot.js';
import type { ChildProcessHandle, ExitInfo } from './child-handle.js';
import { ClusterErrorCode, ClutchError } from './errors.js';
import type { ClusterSettings } from './framework.js';
import { ListenBroker } from './listen-broker.js';
import { loadFramework } from './load-framework.js';
import type { RawHandle } from './round-robin.js';
import { reusePortSupported } from './shared-sockets.js';
import { LOG_FORMAT_ENV, createLogger, setLogFormat, type Logger } from './logger.js';
import { Monitor } from './monitor.js';
import { CHILD_OPTIONS_ENV, normalizeOptions, type ChildOptions, type ClusterOptions } from './options.js';
import { EffectiveSettings } from './settings.js';
import { checkChildMessage, type ChildMessage, type ParentReadyMessage } from './protocol.js';
import { Recycler } from './recycler.js';
import { Relay } from './relay.js';
import { reload, type ReloadHost, type ReloadOptions, type ReloadResult, type RestartReason } from './reload.js';
import { RestartLog } from './restart-log.js';
import type { ClusterStatus } from './status.js';
import { DEFAULT_BACKOFF, Supervisor, type BackoffOptions } from './supervisor.js';
import { terminate } from './terminate.js';
import { Watchdog } from './watchdog.js';
import { WorkerProcess } from './worker-process.js';

const AGENT_ENTRY = fileURLToPath(new URL('./child/agent-main.js', import.meta.url));
const WORKER_ENTRY = fileURLToPath(new URL('./child/worker-main.js', import.meta.url));

export type MasterState = 'idle' | 'starting' | 'ready' | 'stopping' | 'stopped';

/** The master's state as `app status` says it. */
const MASTER_STATUS = { idle: 'starting', starting: 'starting', ready: 'ready', stopping: 'stopping', stopped: 'dead' } as const;

/** What `start()` resolves with, and what an IPC parent receives as `cluster-ready`. */
export type ClusterReadyInfo = ParentReadyMessage['data'];

type Dispatch = { [K in ChildMessage['clutch']]: (handle: ChildProcessHandle, message: Extract<ChildMessage, { clutch: K }>, socket?: unknown) => void };

/** Drops inspector flags so children do not fight over the master's debug port. */
function childExecArgv(): string[] {
  return process.execArgv.filter((arg) => !arg.startsWith('--inspect'));
}

/**
 * The master process: forks the agent, waits until it is ready, forks the workers, waits until each
 * listens, relays every message between them, and stops them in order (workers, then the agent).
 *
 * @example
 * const master = new Master({ baseDir, framework: import.meta.resolve('@clutch/core'), workers: 2 });
 * const info = await master.start();   // { url, port, pid, agent, workers }
 * await master.stop();
 */
export class Master extends EventEmitter<{ ready: [ClusterReadyInfo] }> {
  readonly options: ClusterOptions;
  readonly logger: Logger;
  #state: MasterState = 'idle';
  readonly #relay: Relay;
  #agent: AgentProcess | null = null;
  readonly #workers = new Set<WorkerProcess>();
  /** How workers come to serve, and the listening sockets the master holds (the port stays open whatever happens to the workers). */
  readonly #listen: ListenBroker;
  readonly #recycler: Recycler;
  #readyInfo: ClusterReadyInfo | null = null;
  #stopping: Promise<void> | null = null;
  #abortStart: ((err: Error) => void) | null = null;
  /** Worker slot of each live worker: a replacement takes the slot (and the backoff) of the dead. */
  readonly #slots = new Map<WorkerProcess, number>();
  readonly #supervisor: Supervisor;
  #reloading = false;
  readonly #reloadHost: ReloadHost;
  readonly #restarts = new RestartLog();
  readonly #watchdog: Watchdog;
  readonly #monitor: Monitor;
  /** The command line's flags over the project's config over the defaults. */
  readonly #settings: EffectiveSettings;
  /** Set the moment a stop is asked for: /readyz answers 503 from then on, even during the drain delay. */
  #stopAsked = false;

  readonly #dispatch: Dispatch = {
    ready: (handle, message) => {
      if (!handle.booted()) return;
      this.#relay.markReady(handle);
      if (handle.role === 'agent') {
        if (message.settings) this.#applySettings(message.settings);
        this.#watchdog.watch(handle);
        handle.boot.resolve();
      }
    },
    heartbeat: (handle, message) => this.#watchdog.beat(handle, message),
    bound: (handle, message, socket) => {
      if (handle instanceof WorkerProcess) void this.#listen.bound(handle, message, socket as RawHandle | undefined);
    },
    leaving: (handle) => {
      if (handle.state !== 'stopping') handle.leftOnItsOwn = true;
      if (handle instanceof WorkerProcess) this.#listen.leave(handle);
    },
    metrics: (_handle, message) => this.#monitor.received(message),
    leader: (handle, message) => {
      if (handle === this.#agent) this.#monitor.leader(handle, message);
    },
    ack: (handle, message) => this.#relay.ack(handle, message.seq),
    barrier: (handle, message) => {
      handle.send({ clutch: 'barrier', id: message.id });
    },
    'boot-error': (handle, message) => {
      handle.boot.error = message.error;
    },
    send: (handle, message) => this.#relay.route(handle, message),
    reply: (handle, message) => this.#relay.reply(handle, message),
    listen: (handle, message) => {
      if (handle instanceof WorkerProcess) void this.#listen.listen(handle, message.listen);
      else this.logger.warn('[%s] the agent asked to listen; only workers serve HTTP', ClusterErrorCode.IPC_MALFORMED);
    },
    'log-health': (handle, message) => {
      handle.logHealth = { dropped: message.dropped, lastError: message.error };
    },
  };

  constructor(options: Partial<ClusterOptions> & Pick<ClusterOptions, 'baseDir' | 'framework'>, logger?: Logger, backoff: BackoffOptions = DEFAULT_BACKOFF) {
    super();
    this.options = normalizeOptions(options);
    this.#settings = new EffectiveSettings(this.options);
    this.logger = logger ?? createLogger('master');
    this.#supervisor = new Supervisor({ backoff, logger: this.logger, startTimeout: this.options.startTimeout });
    this.#relay = new Relay({ maxPending: this.options.maxPending, logger: this.logger });
    this.#reloadHost = this.#makeReloadHost();
    const admits = (worker: WorkerProcess) => worker.state !== 'dead' && worker.state !== 'stopping' && this.#state !== 'stopping' && this.#state !== 'stopped';
    this.#listen = new ListenBroker({
      port: this.options.port,
      reusePort: this.options.reusePort,
      scheduling: () => this.#settings.scheduling,
      slotOf: (worker) => this.#slots.get(worker)!,
      admits,
      serving: (worker, where, admitted) => this.#serving(worker, where, admitted),
    });
    this.#recycler = new Recycler({
      logger: this.logger,
      reloadHost: this.#reloadHost,
      ready: () => this.#state === 'ready',
      canRecycle: () => this.#state === 'ready' && !this.#reloading,
      slotOf: (worker) => this.#slots.get(worker)!,
      leave: (worker) => this.#listen.leave(worker),
      drain: async (worker) => {
        await this.#terminate(worker, this.options.stopTimeout, 'reload');
      },
    });
    this.#watchdog = new Watchdog({
      stallTimeout: this.#settings.stallTimeout,
      maxMemory: this.#settings.maxMemory,
      onStall: (handle, silent) => this.#recycler.stalled(handle, silent),
      onMemory: (handle, rss) => {
        const limit = (this.#settings.maxMemory ?? 0) / 1048576;
        if (handle instanceof WorkerProcess)
          this.#recycler.recycle(handle, 'memory', `its RSS is ${(rss / 1048576).toFixed(0)} MB, over the limit of ${limit.toFixed(0)} MB`);
      },
    });
    this.#monitor = new Monitor(
      {
        title: this.options.title,
        baseDir: this.options.baseDir,
        env: this.options.env,
        masterState: () => (this.#reloading ? 'reloading' : MASTER_STATUS[this.#state]),
        url: () => this.#readyInfo?.url ?? null,
        agent: () => this.#agent,
        workers: () =>
          [...this.#workers]
            .map((worker) => ({ worker, slot: this.#slots.get(worker)! }))
            .sort((a, b) => a.slot - b.slot || a.worker.startedAt - b.worker.startedAt),
        ready: () => this.isReady,
        workersInRotation: () => this.#listen.inRotation(),
        waitingConnections: () => this.#listen.waiting(),
        messenger: () => this.#relay.stats(),
      },
      this.#watchdog,
      this.#restarts,
    );
  }

  /** What /readyz answers: the cluster is ready, a worker is in the rotation, and no stop was asked for. */
  get isReady(): boolean {
    return this.#state === 'ready' && !this.#stopAsked && this.#listen.inRotation() > 0;
  }

  /** The project's config, as the agent read it: what the command line did not set. */
  #applySettings(settings: ClusterSettings): void {
    this.#settings.apply(settings);
    this.#watchdog.configure({ stallTimeout: this.#settings.stallTimeout, maxMemory: this.#settings.maxMemory });
    if (settings.logFormat && process.env[LOG_FORMAT_ENV] === undefined) {
      // The workers are forked after this, with the format in their environment.
      process.env[LOG_FORMAT_ENV] = settings.logFormat;
      setLogFormat(settings.logFormat);
    }
  }

  get state(): MasterState {
    return this.#state;
  }

  /** What `app status` shows: every process with its state, uptime, restarts, memory, CPU and event-loop delay. */
  status(): Promise<ClusterStatus> {
    return this.#monitor.status();
  }

  /**
   * The framework's work done once in the master rather than in every child (compiling the
   * project's TypeScript). A failure is logged, not fatal: the children can still do it themselves.
   */
  async #prepare(): Promise<void> {
    try {
      const framework = await loadFramework(this.options.framework);
      await framework.prepare?.({ baseDir: this.options.baseDir, logger: this.logger });
    } catch (err) {
      this.logger.warn('preparing the project failed (each process will do it itself): %s', err instanceof Error ? err.message : err);
    }
  }

  /** The text of /metrics. */
  metrics(): Promise<string> {
    return this.#monitor.metrics();
  }

  /**
   * Replaces every worker, one at a time, then the agent, with processes running the code now on
   * disk; see reload.ts. Rejects with CLUTCH_ERR_CLUSTER_RELOAD_FAILED (old workers still serving)
   * when a new process fails to boot, and with …_RELOAD_REFUSED while another reload runs.
   */
  async reload(options: ReloadOptions = { workers: true, agent: true }): Promise<ReloadResult> {
    if (this.#state !== 'ready') throw new ClutchError(ClusterErrorCode.RELOAD_REFUSED, `Cannot reload while the cluster is ${this.#state}`);
    if (this.#reloading) throw new ClutchError(ClusterErrorCode.RELOAD_REFUSED, 'A reload is already running');
    this.#reloading = true;
    this.logger.info('reload: replacing %s', [options.workers && 'the workers', options.agent && 'the agent'].filter(Boolean).join(' and '));
    try {
      await this.#prepare();
      const result = await reload(this.#reloadHost, options);
      this.#restarts.reloaded();
      this.logger.info('reload done in %dms', result.ms);
      return result;
    } catch (err) {
      this.logger.error('%s', err instanceof Error ? err.message : err);
      throw err;
    } finally {
      this.#reloading = false;
    }
  }

  /** The master's side of a reload: the operations reload.ts sequences. */
  #makeReloadHost(): ReloadHost {
    const guard = () => {
      if (this.#state !== 'ready') throw new ClutchError(ClusterErrorCode.RELOAD_FAILED, `the cluster is ${this.#state}`);
    };
    return {
      logger: this.logger,
      bootTimeout: this.options.startTimeout,
      slots: () => [...new Set(this.#slots.values())].sort((a, b) => a - b),
      inService: (slot) => [...this.#workers].filter((w) => this.#slots.get(w) === slot && w.inService),
      forkCandidate: (slot) => {
        guard();
        return this.#forkWorker(slot, true);
      },
      admit: (worker, reason) => {
        guard();
        worker.admit();
        this.#restarts.record(this.#slots.get(worker)!, reason);
        worker.send({ clutch: 'cluster-ready', url: this.#readyInfo!.url });
      },
      retire: async (handle, reason) => {
        handle.retire();
        await this.#terminate(handle, this.options.stopTimeout, reason);
      },
      agent: () => this.#agent,
      cancelAgentRefork: () => this.#supervisor.cancelAgentRefork(),
      forkAgent: () => {
        guard();
        return this.#forkAgent();
      },
      admitAgent: (agent) => {
        agent.send({ clutch: 'cluster-ready', url: this.#readyInfo!.url });
        this.#restarts.record('agent', 'reload');
      },
    };
  }

  /** Starts the cluster; resolves once every worker listens. On failure every child is gone before it rejects. */
  async start(): Promise<ClusterReadyInfo> {
    if (this.#state !== 'idle') throw new ClutchError(ClusterErrorCode.INVALID_OPTION, `Cannot start a master that is ${this.#state}`);
    if (this.options.reusePort) {
      const why = reusePortSupported();
      if (why)
        throw new ClutchError(
          ClusterErrorCode.REUSEPORT_UNSUPPORTED,
          `--reuse-port (cluster.listen.reusePort) is not available here: ${why}; use the default round-robin or --scheduling os`,
        );
    }
    this.#state = 'starting';
    const began = Date.now();
    const { startTimeout, workers: count } = this.options;
    cluster.setupPrimary({ exec: WORKER_ENTRY, args: [], execArgv: childExecArgv(), serialization: 'json' });

    const aborted = new Promise<never>((_, reject) => {
      this.#abortStart = reject;
    });
    aborted.catch(() => {});
    const timer = setTimeout(() => {
      const waiting = [this.#agent, ...this.#workers].filter((h) => h && h.state !== 'dead' && !h.boot.done).map((h) => `${h!.role} ${h!.pid}`);
      this.#abortStart?.(
        new ClutchError(ClusterErrorCode.START_TIMEOUT, `The cluster was not ready within ${startTimeout}ms; still starting: ${waiting.join(', ') || 'none'}`),
      );
    }, startTimeout);

    try {
      await Promise.race([this.#prepare(), aborted]);
      // A health port asked for on the command line answers /livez from the start; one in the
      // project's config, once the agent has read it.
      const early = this.#settings.health;
      if (early) await this.#monitor.openHealth(early.port, early.hostname);
      const agent = this.#forkAgent();
      await Promise.race([agent.boot.promise, aborted]);
      const health = this.#settings.health;
      if (health && !early) await Promise.race([this.#monitor.openHealth(health.port, health.hostname), aborted]);
      const workers = Array.from({ length: count }, (_, slot) => this.#forkWorker(slot));
      this.#relay.closeBacklog();
      await Promise.race([Promise.all(workers.map((w) => w.boot.promise)), aborted]);
    } catch (err) {
      clearTimeout(timer);
      this.#abortStart = null;
      this.logger.error('start failed [%s]: %s', (err as { code?: string }).code ?? 'UNKNOWN', err instanceof Error ? err.message : err);
      await this.stop();
      throw err;
    }
    clearTimeout(timer);
    this.#abortStart = null;
    this.#state = 'ready';

    const info = this.#readyInfo!;
    info.agent = this.#agent!.pid;
    info.workers = [...this.#workers].map((w) => w.pid);
    const health = this.#monitor.healthUrl;
    if (health) info.health = health;
    this.logger.info(
      '%s started on %s (%sagent %d, %d workers) in %dms',
      this.options.title,
      info.url,
      health ? `health on ${health}; ` : '',
      info.agent,
      info.workers.length,
      Date.now() - began,
    );
    this.#relay.broadcast({ clutch: 'cluster-ready', url: info.url });
    if (process.send && process.connected) {
      const message: ParentReadyMessage = { action: 'cluster-ready', data: info };
      process.send(message);
    }
    this.emit('ready', info);
    return info;
  }

  /**
   * Stops gracefully: every worker drains and runs beforeClose, then the agent does. A child that
   * outlives its stop timeout (`timeout`, else the stopTimeout option) gets SIGKILL. Safe to call
   * more than once, and during the start.
   */
  stop(timeout = this.options.stopTimeout): Promise<void> {
    if (this.#stopping) return this.#stopping;
    this.#stopAsked = true;
    const delay = this.#state === 'ready' ? this.#settings.drainDelay : 0;
    this.#stopping = (async () => {
      if (delay > 0) {
        // Readiness fails at once; the workers go on serving while the orchestrator takes this
        // instance out of its endpoints (Kubernetes does both at the same time on a delete).
        this.logger.info('stopping in %dms: /readyz answers 503, the workers keep serving until then', delay);
        await new Promise((r) => setTimeout(r, delay));
      }
      this.#abortStart?.(new ClutchError(ClusterErrorCode.START_ABORTED, 'The cluster was asked to stop while starting'));
      this.#state = 'stopping';
      this.#supervisor.stop();
      this.#watchdog.stop();
      // No new connection is accepted; the workers finish what they have.
      this.#listen.closeAll();
      await Promise.all([...this.#workers].map((w) => this.#terminate(w, timeout)));
      if (this.#agent) await terminate(this.#agent, timeout, this.logger);
      this.#state = 'stopped';
      this.#monitor.close();
      this.logger.info('%s stopped', this.options.title);
    })();
    return this.#stopping;
  }

  /** Takes a worker out of the rotation first, so that it is handed no new connection, then stops it. */
  #terminate(handle: ChildProcessHandle, timeout: number, reason: 'stop' | 'reload' = 'stop'): ReturnType<typeof terminate> {
    if (handle instanceof WorkerProcess) this.#listen.leave(handle);
    return terminate(handle, timeout, this.logger, reason);
  }

  /** A worker serves (in whatever mode): it counts as booted, unless a stop came meanwhile. */
  #serving(worker: WorkerProcess, where: { url: string; port: number | null }, admitted: boolean): void {
    if (!admitted) {
      // A stop order sent while the worker was still loading may have been missed: send it again.
      worker.resendStop();
      return;
    }
    if (!worker.listening()) return;
    this.#watchdog.watch(worker);
    this.#readyInfo ??= { url: where.url, port: where.port, pid: process.pid, agent: 0, workers: [] };
    worker.boot.resolve();
  }

  /**
   * Tells the agent and every worker to reopen their log files (after logrotate). Over IPC, not a
   * signal: a child that has not installed its SIGUSR1 handler yet would open an inspector port.
   */
  reopenLogs(): void {
    this.#agent?.send({ clutch: 'reopen-logs' });
    for (const w of this.#workers) w.send({ clutch: 'reopen-logs' });
  }

  /** Heartbeats come often enough that a stall is seen within a fraction of the stall timeout, and at least once a second (status and metrics). */
  #heartbeatMs(): number {
    const stall = this.#watchdog.stallTimeout;
    return stall > 0 ? Math.max(50, Math.min(1_000, Math.floor(stall / 4))) : 1_000;
  }

  #childEnv(): NodeJS.ProcessEnv {
    const child: ChildOptions = {
      baseDir: this.options.baseDir,
      framework: this.options.framework,
      env: this.options.env,
      title: this.options.title,
      stopTimeout: this.options.stopTimeout,
      heartbeatMs: this.#heartbeatMs(),
      masterPid: process.pid,
      agentPid: this.#agent?.pid ?? null,
    };
    return { ...process.env, [CHILD_OPTIONS_ENV]: JSON.stringify(child) };
  }

  #forkAgent(): AgentProcess {
    const agent = new AgentProcess(AGENT_ENTRY, this.#childEnv(), childExecArgv());
    this.#agent = agent;
    this.#relay.setAgent(agent);
    agent.on('message', (raw) => this.#onChildMessage(agent, raw, undefined));
    this.#wire(agent, 'agent');
    return agent;
  }

  #forkWorker(slot: number, candidate = false): WorkerProcess {
    const worker = new WorkerProcess(this.#childEnv(), candidate);
    this.#workers.add(worker);
    this.#slots.set(worker, slot);
    this.#relay.addWorker(worker);
    worker.on('message', (raw, socket) => this.#onChildMessage(worker, raw, socket));
    this.#wire(worker, slot);
    return worker;
  }

  /** One fork and exit wiring for both roles: the boot to wait for, and what a death means. */
  #wire(handle: AgentProcess | WorkerProcess, slot: number | 'agent'): void {
    const { boot } = handle;
    handle.once('exit', (info: ExitInfo) => {
      this.#watchdog.forget(handle);
      if (handle instanceof WorkerProcess) {
        this.#monitor.workerExited(handle);
        this.#workers.delete(handle);
        this.#slots.delete(handle);
        this.#relay.removeWorker(handle);
        // Connections handed to it and not yet written to its channel go to another worker.
        this.#listen.exited(handle);
      } else {
        this.#relay.agentExited(handle);
      }
      this.#relay.broadcastPids();
      const error = exitError(handle, info.code, info.signal);
      boot.reject(error);
      // A death after its own boot but before the whole cluster is ready fails the start too.
      if (this.#state === 'starting') this.#abortStart?.(error);
      const candidate = handle instanceof WorkerProcess && handle.candidate;
      if (this.#state !== 'ready' || handle.retired || candidate) return;
      this.logger.error('%s %d exited (code %s, signal %s)%s', handle.role, handle.pid, info.code, info.signal, boot.error ? `: ${error.message}` : '');
      // Killed from outside after it served (an operator, the OOM killer): no crash loop, no delay.
      const counts = !(boot.done && killedFromOutside(handle, info.code, info.signal));
      const reason = handle.killedFor ?? 'crash';
      const refork = () => {
        if (this.#state === 'ready') this.#replace(slot, reason);
      };
      if (slot === 'agent') this.#supervisor.agentDied(Date.now() - handle.startedAt, refork, counts);
      else this.#supervisor.workerDied(slot, Date.now() - handle.startedAt, refork, counts);
    });
    this.logger.debug('forked %s %d%s', handle.role, handle.pid, slot === 'agent' ? '' : ` (slot ${slot})`);
  }

  /** Supervision's refork of a dead process; the replacement runs serverDidReady once it is ready (only it). */
  #replace(slot: number | 'agent', reason: RestartReason): void {
    // At most one agent: a reload may have replaced the dead one already.
    if (slot === 'agent' && this.#agent && this.#agent.state !== 'dead') return;
    this.#restarts.record(slot, reason);
    const handle = slot === 'agent' ? this.#forkAgent() : this.#forkWorker(slot);
    const booted = handle.boot.promise;
    this.#supervisor.bootDeadline(`${handle.role} ${handle.pid}`, booted, () => handle.kill('SIGKILL'));
    void booted.then(
      () => {
        this.logger.info(slot === 'agent' ? 'agent %d replaced the dead agent' : 'worker %d (slot %d) replaced a dead worker', handle.pid, slot);
        handle.send({ clutch: 'cluster-ready', url: this.#readyInfo!.url });
      },
      () => {},
    );
  }

  #onChildMessage(handle: ChildProcessHandle, raw: unknown, socket: unknown): void {
    const problem = checkChildMessage(raw);
    if (problem !== null) {
      this.logger.warn('[%s] ignored a message from %s %d: %s', ClusterErrorCode.IPC_MALFORMED, handle.role, handle.pid, problem);
      return;
    }
    const message = raw as ChildMessage;
    if ((message.clutch === 'send' || message.clutch === 'reply') && message.ack !== undefined) this.#relay.ack(handle, message.ack);
    (this.#dispatch[message.clutch] as (h: ChildProcessHandle, m: ChildMessage, socket: unknown) => void)(handle, message, socket);
  }
}
