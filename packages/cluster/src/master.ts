import { EventEmitter } from 'node:events';
import { exitError, killedFromOutside } from './child-boot.js';
import { Children, type Slot } from './children.js';
import type { ChildProcessHandle, ExitInfo } from './child-handle.js';
import { ClusterErrorCode, ClutchError } from './errors.js';
import type { ClusterSettings } from './framework.js';
import { ListenBroker } from './listen-broker.js';
import { prepareProject } from './load-framework.js';
import { LOG_FORMAT_ENV, createLogger, setLogFormat, type Logger } from './logger.js';
import { dispatchChildMessage, masterDispatch, type MasterParts } from './master-dispatch.js';
import { Monitor } from './monitor.js';
import { normalizeOptions, type ClusterOptions } from './options.js';
import { EffectiveSettings } from './settings.js';
import type { ParentReadyMessage } from './protocol.js';
import { Recycler } from './recycler.js';
import { Relay } from './relay.js';
import { Reloader, type ReloadHost, type ReloadOptions, type ReloadResult, type RestartReason } from './reload.js';
import { RestartLog } from './restart-log.js';
import type { ClusterStatus } from './status.js';
import { DEFAULT_BACKOFF, Supervisor, type BackoffOptions } from './supervisor.js';
import { terminate } from './terminate.js';
import { Watchdog } from './watchdog.js';
import { Deadline } from './with-timeout.js';
import { WorkerProcess } from './worker-process.js';

export type MasterState = 'idle' | 'starting' | 'ready' | 'stopping' | 'stopped';

/** The master's state as `app status` says it. */
const MASTER_STATUS = { idle: 'starting', starting: 'starting', ready: 'ready', stopping: 'stopping', stopped: 'dead' } as const;

/** How a stop went: the processes that outlived the stop timeout and were killed (their work in flight was lost). */
export interface StopResult {
  killed: Array<{ role: 'agent' | 'worker'; pid: number }>;
}

/** What `start()` resolves with, and what an IPC parent receives as `cluster-ready`. */
export type ClusterReadyInfo = ParentReadyMessage['data'];

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
  readonly #children: Children;
  /** How workers come to serve, and the listening sockets the master holds (the port stays open whatever happens to the workers). */
  readonly #listen: ListenBroker;
  readonly #recycler: Recycler;
  #readyInfo: ClusterReadyInfo | null = null;
  #stopping: Promise<StopResult> | null = null;
  /** The start's wait, while it runs: a death, a stop or the start timeout ends it. */
  #starting: Deadline | null = null;
  readonly #supervisor: Supervisor;
  readonly #reloader: Reloader;
  readonly #restarts = new RestartLog();
  readonly #watchdog: Watchdog;
  readonly #monitor: Monitor;
  /** The command line's flags over the project's config over the defaults. */
  readonly #settings: EffectiveSettings;
  /** Set the moment a stop is asked for: /readyz answers 503 from then on, even during the drain delay. */
  #stopAsked = false;

  constructor(options: Partial<ClusterOptions> & Pick<ClusterOptions, 'baseDir' | 'framework'>, logger?: Logger, backoff: BackoffOptions = DEFAULT_BACKOFF) {
    super();
    this.options = normalizeOptions(options);
    this.#settings = new EffectiveSettings(this.options);
    this.logger = logger ?? createLogger('master');
    this.#supervisor = new Supervisor({ backoff, logger: this.logger, startTimeout: this.options.startTimeout });
    this.#relay = new Relay({ maxPending: this.options.maxPending, logger: this.logger });
    this.#children = new Children(this.options, this.logger, () => ({
      heartbeatMs: this.#watchdog.heartbeatMs,
      bootErrorReported: this.#state === 'starting',
      ...(this.#settings.maxMemory !== undefined ? { maxMemory: this.#settings.maxMemory } : {}),
    }));
    this.#children.on('forked', (handle) => {
      if (handle instanceof WorkerProcess) this.#relay.addWorker(handle);
      else this.#relay.setAgent(handle);
    });
    this.#children.on('exit', (handle, info, slot) => this.#exited(handle, info, slot));
    const reloadHost: ReloadHost = {
      logger: this.logger,
      children: this.#children,
      restarts: this.#restarts,
      bootTimeout: this.options.startTimeout,
      state: () => this.#state,
      url: () => this.#readyInfo!.url,
      prepare: () => prepareProject(this.options.framework, this.options.baseDir, this.logger),
      retire: async (handle, reason) => {
        handle.retire();
        await this.#terminate(handle, this.options.stopTimeout, reason);
      },
      cancelAgentRefork: () => this.#supervisor.cancelAgentRefork(),
    };
    this.#reloader = new Reloader(reloadHost);
    const admits = (worker: WorkerProcess) => worker.state !== 'dead' && worker.state !== 'stopping' && this.#state !== 'stopping' && this.#state !== 'stopped';
    this.#listen = new ListenBroker({
      port: this.options.port,
      reusePort: this.options.reusePort,
      scheduling: () => this.#settings.scheduling,
      slotOf: (worker) => this.#children.slotOf(worker),
      admits,
      serving: (worker, where, admitted) => this.#serving(worker, where, admitted),
    });
    this.#recycler = new Recycler(reloadHost, {
      canRecycle: () => !this.#reloader.running,
      leave: (worker) => this.#listen.leave(worker),
      suspend: (worker) => this.#listen.suspend(worker),
      resume: (worker) => this.#listen.resume(worker),
    });
    this.#watchdog = new Watchdog({
      stallTimeout: this.#settings.stallTimeout,
      maxMemory: this.#settings.maxMemory,
      onStall: (handle, silent) => this.#recycler.stalled(handle, silent),
      onUnresponsive: (handle, silent) => {
        if (!(handle instanceof WorkerProcess)) return;
        this.#listen.suspend(handle);
        this.logger.warn(
          'worker %d (slot %d) missed its heartbeats (%dms silent): it gets no new connection until it answers',
          handle.pid,
          this.#children.slotOf(handle),
          silent,
        );
      },
      onResponsive: (handle) => {
        if (!(handle instanceof WorkerProcess)) return;
        this.#listen.resume(handle);
        this.logger.info('worker %d (slot %d) answers again: back in the rotation', handle.pid, this.#children.slotOf(handle));
      },
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
        masterState: () => (this.#reloader.running ? 'reloading' : MASTER_STATUS[this.#state]),
        url: () => this.#readyInfo?.url ?? null,
        children: this.#children,
        ready: () => this.isReady,
        workersInRotation: () => this.#listen.inRotation(),
        waitingConnections: () => this.#listen.waiting(),
        messenger: () => this.#relay.stats(),
        logger: this.logger,
      },
      this.#watchdog,
      this.#restarts,
    );
    const parts: MasterParts = {
      relay: this.#relay,
      watchdog: this.#watchdog,
      listen: this.#listen,
      monitor: this.#monitor,
      children: this.#children,
      logger: this.logger,
      applySettings: (settings) => this.#applySettings(settings),
    };
    const table = masterDispatch(parts);
    this.#children.on('message', (handle, raw, socket) => dispatchChildMessage(table, parts, handle, raw, socket));
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

  /** The text of /metrics. */
  metrics(): Promise<string> {
    return this.#monitor.metrics();
  }

  /**
   * Replaces every worker, one at a time, then the agent, with processes running the code now on
   * disk; see reload.ts. Rejects with CLUTCH_ERR_CLUSTER_RELOAD_FAILED (old workers still serving)
   * when a new process fails to boot, and with …_RELOAD_REFUSED while another reload runs.
   */
  reload(options: ReloadOptions = { workers: true, agent: true }): Promise<ReloadResult> {
    return this.#reloader.run(options);
  }

  /** Starts the cluster; resolves once every worker listens. On failure every child is gone before it rejects. */
  async start(): Promise<ClusterReadyInfo> {
    if (this.#state !== 'idle') throw new ClutchError(ClusterErrorCode.INVALID_OPTION, `Cannot start a master that is ${this.#state}`);
    this.#listen.checkSupported();
    this.#state = 'starting';
    const began = Date.now();
    const { startTimeout, workers: count } = this.options;
    this.#children.setup();

    const deadline = new Deadline(startTimeout, () => {
      const waiting = this.#children
        .all()
        .filter((h) => h.state !== 'dead' && !h.boot.done)
        .map((h) => `${h.role} ${h.pid}`);
      return new ClutchError(
        ClusterErrorCode.START_TIMEOUT,
        `The cluster was not ready within ${startTimeout}ms; still starting: ${waiting.join(', ') || 'none'}`,
      );
    });
    this.#starting = deadline;
    try {
      await deadline.race(prepareProject(this.options.framework, this.options.baseDir, this.logger));
      // A health port asked for on the command line answers /livez from the start; one in the
      // project's config, once the agent has read it.
      const early = this.#settings.health;
      if (early) await this.#monitor.openHealth(early.port, early.hostname);
      const agent = this.#children.forkAgent();
      await deadline.race(agent.boot.promise);
      const health = this.#settings.health;
      if (health && !early) await deadline.race(this.#monitor.openHealth(health.port, health.hostname));
      const workers = Array.from({ length: count }, (_, slot) => this.#children.forkWorker(slot));
      this.#relay.closeBacklog();
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
    this.#state = 'ready';

    const info = this.#readyInfo!;
    info.agent = this.#children.agent!.pid;
    info.workers = this.#children.workers.map((w) => w.pid);
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
  stop(timeout = this.options.stopTimeout): Promise<StopResult> {
    if (this.#stopping) return this.#stopping;
    this.#stopAsked = true;
    const delay = this.#state === 'ready' ? this.#settings.drainDelay : 0;
    this.#stopping = (async (): Promise<StopResult> => {
      if (delay > 0) {
        // Readiness fails at once; the workers go on serving while the orchestrator takes this
        // instance out of its endpoints (Kubernetes does both at the same time on a delete).
        this.logger.info('stopping in %dms: /readyz answers 503, the workers keep serving until then', delay);
        await new Promise((r) => setTimeout(r, delay));
      }
      this.#starting?.abort(new ClutchError(ClusterErrorCode.START_ABORTED, 'The cluster was asked to stop while starting'));
      this.#state = 'stopping';
      this.#supervisor.stop();
      this.#watchdog.stop();
      // No new connection is accepted; the workers finish what they have.
      this.#listen.closeAll();
      const killed: StopResult['killed'] = [];
      const note = (handle: ChildProcessHandle) => (exit: { killed: boolean }) => {
        if (exit.killed) killed.push({ role: handle.role, pid: handle.pid });
      };
      await Promise.all(this.#children.workers.map((w) => this.#terminate(w, timeout).then(note(w))));
      const agent = this.#children.agent;
      if (agent) await terminate(agent, timeout, this.logger).then(note(agent));
      this.#state = 'stopped';
      this.#monitor.close();
      if (killed.length > 0)
        this.logger.warn(
          '%s stopped; %s outlived the stop timeout and had to be killed',
          this.options.title,
          killed.map((k) => `${k.role} ${k.pid}`).join(', '),
        );
      else this.logger.info('%s stopped', this.options.title);
      return { killed };
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
    for (const child of this.#children.all()) child.send({ clutch: 'reopen-logs' });
  }

  /** What a death means: the boot it fails, and whether supervision replaces the process. */
  #exited(handle: ChildProcessHandle, info: ExitInfo, slot: Slot): void {
    // Its request counts stay in the totals (a counter never goes back), then its vitals go.
    if (handle instanceof WorkerProcess) this.#monitor.workerExited(handle);
    this.#watchdog.forget(handle);
    if (handle instanceof WorkerProcess) {
      this.#relay.removeWorker(handle);
      // Connections handed to it and not yet written to its channel go to another worker.
      this.#listen.exited(handle);
    } else {
      this.#relay.agentExited(handle);
    }
    this.#relay.broadcastPids();
    const { boot } = handle;
    const error = exitError(handle, info.code, info.signal);
    boot.reject(error);
    // A death after its own boot but before the whole cluster is ready fails the start too.
    if (this.#state === 'starting') this.#starting?.abort(error);
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
  }

  /** Supervision's refork of a dead process; the replacement runs serverDidReady once it is ready (only it). */
  #replace(slot: Slot, reason: RestartReason): void {
    // At most one agent: a reload may have replaced the dead one already.
    const agent = this.#children.agent;
    if (slot === 'agent' && agent && agent.state !== 'dead') return;
    this.#restarts.record(slot, reason);
    const handle = slot === 'agent' ? this.#children.forkAgent() : this.#children.forkWorker(slot);
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
}
