import cluster from 'node:cluster';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { AgentProcess } from './agent-process.js';
import { deferBoot, exitError, killedFromOutside, roleName, urlOf, type Boot } from './child-boot.js';
import type { ChildHandle } from './child-handle.js';
import { ClusterErrorCode, ClutchError, serializeError } from './errors.js';
import type { ClusterSettings, ListenConfig } from './framework.js';
import { Listeners } from './listeners.js';
import { loadFramework } from './load-framework.js';
import type { RawHandle } from './round-robin.js';
import { SharedSockets, reusePortSupported } from './shared-sockets.js';
import { LOG_FORMAT_ENV, createLogger, setLogFormat, type Logger } from './logger.js';
import { Monitor } from './monitor.js';
import { CHILD_OPTIONS_ENV, DEFAULTS, normalizeOptions, type ChildOptions, type ClusterOptions } from './options.js';
import { portInUse } from './port-in-use.js';
import { checkChildMessage, type BoundMessage, type ChildMessage, type ListenAddress, type ParentReadyMessage } from './protocol.js';
import { Relay } from './relay.js';
import { reload, replaceInSlot, type ReloadHost, type ReloadOptions, type ReloadResult, type RestartReason } from './reload.js';
import { RestartLog } from './restart-log.js';
import type { ClusterStatus } from './status.js';
import { DEFAULT_BACKOFF, Supervisor, type BackoffOptions } from './supervisor.js';
import { resendStop, terminate } from './terminate.js';
import { Watchdog } from './watchdog.js';
import { WorkerProcess } from './worker-process.js';

const AGENT_ENTRY = fileURLToPath(new URL('./child/agent-main.js', import.meta.url));
const WORKER_ENTRY = fileURLToPath(new URL('./child/worker-main.js', import.meta.url));

export type MasterState = 'idle' | 'starting' | 'ready' | 'stopping' | 'stopped';

/** What `start()` resolves with, and what an IPC parent receives as `cluster-ready`. */
export type ClusterReadyInfo = ParentReadyMessage['data'];

type Dispatch = { [K in ChildMessage['clutch']]: (handle: ChildHandle, message: Extract<ChildMessage, { clutch: K }>, socket?: unknown) => void };

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
  readonly #boots = new Map<ChildHandle, Boot>();
  /** The listening sockets: the master holds them, so the port stays open whatever happens to the workers. */
  readonly #listeners = new Listeners();
  /** Sockets the workers listen on themselves ('os', reusePort), kept open by the master. */
  readonly #shared = new SharedSockets();
  /** Per worker asked to bind a socket: the key its socket will be kept under. */
  readonly #binding = new Map<WorkerProcess, { key: string; requested: ListenConfig; config: ListenConfig; done: () => void }>();
  /** A bind with port 0 under way, per address: the other slots wait for its port (reusePort: one port for all). */
  readonly #firstBind = new Map<string, Promise<void>>();
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
  /** The project's settings as the agent reported them; the options (the CLI's flags) win. */
  #settings: ClusterSettings = {};
  /** Set the moment a stop is asked for: /readyz answers 503 from then on, even during the drain delay. */
  #stopAsked = false;
  /** Recycles (memory, stall) run one at a time, so that capacity never drops by more than one worker. */
  #recycling: Promise<void> = Promise.resolve();

  readonly #dispatch: Dispatch = {
    ready: (handle, message) => {
      // A stop order sent while the child was still loading may have been missed: send it again.
      if (handle.state === 'stopping') {
        resendStop(handle);
        return;
      }
      this.#relay.markReady(handle);
      if (handle.role === 'agent') {
        if (message.settings) this.#applySettings(message.settings);
        this.#watchdog.watch(handle);
        this.#boots.get(handle)?.resolve();
      }
    },
    heartbeat: (handle, message) => this.#watchdog.beat(handle, message),
    bound: (handle, message, socket) => {
      if (handle instanceof WorkerProcess) void this.#bound(handle, message, socket as RawHandle | undefined);
    },
    leaving: (handle) => {
      if (handle.state !== 'stopping') handle.leftOnItsOwn = true;
      if (handle instanceof WorkerProcess) this.#listeners.leave(handle);
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
      const boot = this.#boots.get(handle);
      if (boot) boot.error = message.error;
    },
    send: (handle, message) => this.#relay.route(handle, message),
    reply: (handle, message) => this.#relay.reply(handle, message),
    listen: (handle, message) => {
      if (handle instanceof WorkerProcess) void this.#listen(handle, message.listen);
      else this.logger.warn('[%s] the agent asked to listen; only workers serve HTTP', ClusterErrorCode.IPC_MALFORMED);
    },
    'log-health': (handle, message) => {
      handle.logHealth = { dropped: message.dropped, lastError: message.error };
    },
  };

  constructor(options: Partial<ClusterOptions> & Pick<ClusterOptions, 'baseDir' | 'framework'>, logger?: Logger, backoff: BackoffOptions = DEFAULT_BACKOFF) {
    super();
    this.options = normalizeOptions(options);
    this.logger = logger ?? createLogger('master');
    this.#supervisor = new Supervisor({ backoff, logger: this.logger, startTimeout: this.options.startTimeout });
    this.#relay = new Relay({ maxPending: this.options.maxPending, logger: this.logger });
    this.#reloadHost = this.#makeReloadHost();
    this.#watchdog = new Watchdog({
      stallTimeout: this.options.stallTimeout ?? DEFAULTS.stallTimeout,
      maxMemory: this.options.maxMemory,
      onStall: (handle, silent) => this.#stalled(handle, silent),
      onMemory: (handle, rss) => {
        if (handle instanceof WorkerProcess)
          this.#recycle(handle, 'memory', `its RSS is ${(rss / 1048576).toFixed(0)} MB, over the limit of ${(this.#maxMemory()! / 1048576).toFixed(0)} MB`);
      },
    });
    this.#monitor = new Monitor(
      {
        title: this.options.title,
        baseDir: this.options.baseDir,
        env: this.options.env,
        masterState: () =>
          this.#reloading
            ? 'reloading'
            : this.#state === 'ready'
              ? 'ready'
              : this.#state === 'idle' || this.#state === 'starting'
                ? 'starting'
                : this.#state === 'stopping'
                  ? 'stopping'
                  : 'dead',
        url: () => this.#readyInfo?.url ?? null,
        agent: () => this.#agent,
        workers: () =>
          [...this.#workers]
            .map((worker) => ({ worker, slot: this.#slots.get(worker)! }))
            .sort((a, b) => a.slot - b.slot || a.worker.startedAt - b.worker.startedAt),
        ready: () => this.isReady,
        workersInRotation: () => this.#listeners.inRotation(),
        waitingConnections: () => this.#listeners.waiting(),
        messenger: () => this.#relay.stats(),
      },
      this.#watchdog,
      this.#restarts,
    );
  }

  /** What /readyz answers: the cluster is ready, a worker is in the rotation, and no stop was asked for. */
  get isReady(): boolean {
    return this.#state === 'ready' && !this.#stopAsked && this.#listeners.inRotation() > 0;
  }

  #drainDelay(): number {
    return this.options.drainDelay ?? this.#settings.drainDelay ?? DEFAULTS.drainDelay;
  }

  #maxMemory(): number | undefined {
    return this.options.maxMemory ?? this.#settings.maxMemory;
  }

  /** The project's config, as the agent read it: what the command line did not set. */
  #applySettings(settings: ClusterSettings): void {
    this.#settings = settings;
    this.#watchdog.configure({ stallTimeout: this.options.stallTimeout ?? settings.stallTimeout ?? DEFAULTS.stallTimeout, maxMemory: this.#maxMemory() });
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
      inService: (slot) =>
        [...this.#workers].filter((w) => this.#slots.get(w) === slot && !w.candidate && !w.retiring && w.state !== 'dead' && w.state !== 'stopping'),
      forkCandidate: (slot) => {
        guard();
        return this.#forkWorker(slot, true);
      },
      booted: (handle) => this.#boots.get(handle)?.promise ?? Promise.reject(new ClutchError(ClusterErrorCode.PROCESS_EXITED, `process ${handle.pid} is gone`)),
      admit: (worker, reason) => {
        guard();
        worker.candidate = false;
        this.#restarts.record(this.#slots.get(worker)!, reason);
        worker.send({ clutch: 'cluster-ready', url: this.#readyInfo!.url });
      },
      retire: async (handle, reason) => {
        handle.retiring = true;
        await this.#terminate(handle, this.options.stopTimeout, reason);
      },
      replaceAgent: async (bootTimeout) => {
        guard();
        // The reload forks the agent itself: a pending refork of a dead one must not fork another.
        this.#supervisor.cancelAgentRefork();
        const old = this.#agent;
        if (old && old.state !== 'dead') {
          old.retiring = true;
          await terminate(old, this.options.stopTimeout, this.logger);
        }
        guard();
        const agent = this.#forkAgent();
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            this.#boots.get(agent)!.promise,
            new Promise<never>((_, reject) => {
              timer = setTimeout(
                () => reject(new ClutchError(ClusterErrorCode.START_TIMEOUT, `the new agent ${agent.pid} was not ready within ${bootTimeout}ms`)),
                bootTimeout,
              );
            }),
          ]);
        } catch (err) {
          // Not retiring: supervision takes over and retries the agent with backoff.
          agent.kill('SIGKILL');
          throw err;
        } finally {
          clearTimeout(timer);
        }
        agent.send({ clutch: 'cluster-ready', url: this.#readyInfo!.url });
        this.#restarts.record('agent', 'reload');
        this.logger.info('reload: agent %d replaces agent %d', agent.pid, old?.pid);
        return agent.pid;
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
      const waiting = [this.#agent, ...this.#workers].filter((h) => h && h.state === 'starting').map((h) => `${roleName(h!)} ${h!.pid}`);
      this.#abortStart?.(
        new ClutchError(ClusterErrorCode.START_TIMEOUT, `The cluster was not ready within ${startTimeout}ms; still starting: ${waiting.join(', ') || 'none'}`),
      );
    }, startTimeout);

    try {
      await Promise.race([this.#prepare(), aborted]);
      // A health port asked for on the command line answers /livez from the start.
      if (this.options.healthPort !== undefined) await this.#monitor.openHealth(this.options.healthPort, this.options.healthHostname);
      const agent = this.#forkAgent();
      await Promise.race([this.#boots.get(agent)!.promise, aborted]);
      const health = this.#settings.health;
      if (this.options.healthPort === undefined && health) await Promise.race([this.#monitor.openHealth(health.port, health.hostname), aborted]);
      const workers = Array.from({ length: count }, (_, slot) => this.#forkWorker(slot));
      this.#relay.closeBacklog();
      await Promise.race([Promise.all(workers.map((w) => this.#boots.get(w)!.promise)), aborted]);
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
    const delay = this.#state === 'ready' ? this.#drainDelay() : 0;
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
      // No new connection is accepted; the workers finish what they have. (A socket the workers
      // listen on themselves closes once the last of them has closed its copy.)
      this.#listeners.closeAll();
      this.#shared.closeAll();
      await Promise.all([...this.#workers].map((w) => this.#terminate(w, timeout)));
      if (this.#agent) await terminate(this.#agent, timeout, this.logger);
      this.#state = 'stopped';
      this.#monitor.close();
      this.logger.info('%s stopped', this.options.title);
    })();
    return this.#stopping;
  }

  /**
   * The watchdog found `handle` silent: a worker is taken out of the rotation at once, replaced,
   * and killed once its replacement listens; the agent is killed and replaced as after a crash.
   */
  #stalled(handle: ChildHandle, silent: number): void {
    if (this.#state !== 'ready') return;
    if (handle instanceof WorkerProcess) {
      this.logger.error(
        '[%s] worker %d (slot %d) sent no heartbeat for %dms; it leaves the rotation and is replaced',
        ClusterErrorCode.WORKER_STALLED,
        handle.pid,
        this.#slots.get(handle),
        silent,
      );
      this.#listeners.leave(handle);
      this.#recycle(handle, 'stalled', `it stalled for ${silent}ms`);
    } else {
      this.logger.error('[%s] the agent %d sent no heartbeat for %dms; it is killed and replaced', ClusterErrorCode.AGENT_STALLED, handle.pid, silent);
      handle.killedFor = 'stalled';
      handle.kill('SIGKILL');
    }
  }

  /**
   * Replaces one worker as one step of a reload — the new one listens first — for `reason`. An old
   * worker over its memory limit drains gracefully; a stalled one cannot, and is killed. One recycle
   * at a time; none during a reload (it replaces every worker anyway), except that a stalled worker
   * is still killed then (supervision replaces it).
   */
  #recycle(worker: WorkerProcess, reason: 'memory' | 'stalled', why: string): void {
    const kill = () => {
      worker.killedFor = 'stalled';
      worker.kill('SIGKILL');
    };
    this.#recycling = this.#recycling.then(async () => {
      if (this.#state !== 'ready' || worker.state === 'dead' || worker.retiring) return;
      if (this.#reloading || worker.candidate) {
        if (reason === 'stalled') kill();
        return;
      }
      const slot = this.#slots.get(worker)!;
      this.logger.warn('recycling worker %d (slot %d): %s', worker.pid, slot, why);
      try {
        await replaceInSlot(this.#reloadHost, slot, [worker], reason, async (old) => {
          old.retiring = true;
          if (reason === 'stalled') {
            old.kill('SIGKILL');
            await old.exited;
          } else {
            await this.#terminate(old, this.options.stopTimeout, 'reload');
          }
        });
      } catch (err) {
        this.logger.error('recycling worker %d failed: %s', worker.pid, err instanceof Error ? err.message : err);
        // A stalled worker serves nobody: it goes anyway, and supervision replaces it with backoff.
        if (reason === 'stalled') kill();
      }
    });
  }

  /** Takes a worker out of the rotation first, so that it is handed no new connection, then stops it. */
  #terminate(handle: ChildHandle, timeout: number, reason: 'stop' | 'reload' = 'stop'): ReturnType<typeof terminate> {
    if (handle instanceof WorkerProcess) this.#listeners.leave(handle);
    return terminate(handle, timeout, this.logger, reason);
  }

  /**
   * A worker asks to serve HTTP at `requested` (its config; the CLI's --port wins). The master binds
   * that address once — workers that ask for the same one share the socket — and puts the worker in
   * the rotation: that is when a worker counts as listening.
   */
  async #listen(worker: WorkerProcess, requested: ListenConfig): Promise<void> {
    // The CLI's --port wins over the address, never over what the server speaks (TLS, HTTP/2).
    const config: ListenConfig =
      this.options.port !== undefined ? { port: this.options.port, ...(requested.hostname ? { hostname: requested.hostname } : {}) } : requested;
    const reusePort = this.options.reusePort ?? requested.reusePort ?? false;
    const scheduling = this.options.scheduling ?? this.#settings.scheduling ?? 'rr';
    if (reusePort || scheduling === 'os') {
      void this.#listenShared(worker, requested, config, reusePort);
      return;
    }
    const serving = () => worker.state !== 'dead' && worker.state !== 'stopping' && this.#state !== 'stopping' && this.#state !== 'stopped';
    let address;
    try {
      address = await this.#listeners.join(worker, config, serving);
    } catch (err) {
      const failure = await portInUse(err as NodeJS.ErrnoException, config).catch((e: unknown) => e);
      worker.send({ clutch: 'listen-failed', error: serializeError(failure) });
      return;
    }
    worker.send({ clutch: 'listening', address });
    this.#serving(worker, requested, address, serving());
  }

  /** A worker listens (in whatever mode): it counts as booted, unless a stop came meanwhile. */
  #serving(worker: WorkerProcess, requested: ListenConfig, address: ListenAddress, admitted: boolean): void {
    if (!admitted) {
      // A stop order sent while the worker was still loading may have been missed: send it again.
      if (worker.state === 'stopping') resendStop(worker);
      return;
    }
    worker.listening = true;
    this.#watchdog.watch(worker);
    const where = urlOf(address, requested.tls !== undefined);
    this.#readyInfo ??= { url: where.url, port: where.port, pid: process.pid, agent: 0, workers: [] };
    this.#boots.get(worker)?.resolve();
  }

  /**
   * 'os' and reusePort: the worker listens on a socket of its own — the one the master keeps for
   * its slot (reusePort) or for the cluster ('os'), or, the first time, one it binds and hands over.
   */
  async #listenShared(worker: WorkerProcess, requested: ListenConfig, config: ListenConfig, reusePort: boolean): Promise<void> {
    if (reusePort) {
      const why = reusePortSupported();
      if (why) {
        worker.send({
          clutch: 'listen-failed',
          error: serializeError(
            new ClutchError(ClusterErrorCode.REUSEPORT_UNSUPPORTED, `cluster.listen.reusePort (--reuse-port) is not available here: ${why}`),
          ),
        });
        return;
      }
    }
    const base = SharedSockets.key(config, null);
    // Port 0: the first socket takes a free port; every other waits and binds that one.
    for (let first = this.#firstBind.get(base); first && (this.#shared.resolve(config).port ?? 0) === 0; first = this.#firstBind.get(base)) await first;
    const key = SharedSockets.key(config, reusePort ? this.#slots.get(worker)! : null);
    const held = this.#shared.get(key);
    const bindConfig = this.#shared.resolve(config);
    let done = () => {};
    if (!held && !bindConfig.path && (bindConfig.port ?? 0) === 0) {
      const first = new Promise<void>((r) => (done = r));
      this.#firstBind.set(base, first);
      void first.then(() => this.#firstBind.get(base) === first && this.#firstBind.delete(base));
    }
    this.#binding.set(worker, { key, requested, config, done });
    if (held) worker.sendWithHandle({ clutch: 'listen-on' }, held.handle);
    else worker.send({ clutch: 'bind', listen: { ...bindConfig, ...(reusePort ? { reusePort: true } : {}) } });
  }

  /** The worker listens on its own socket now (or could not bind one). */
  async #bound(worker: WorkerProcess, message: BoundMessage, socket: RawHandle | undefined): Promise<void> {
    const binding = this.#binding.get(worker);
    this.#binding.delete(worker);
    if (!binding) return;
    // The port is known (or the bind failed): whoever waited for it goes on, once it is kept below.
    queueMicrotask(binding.done);
    if (message.error || !message.address) {
      const err = Object.assign(new Error(message.error?.message ?? 'bind failed'), { code: message.error?.code });
      const failure = await portInUse(err as NodeJS.ErrnoException, binding.config).catch((e: unknown) => e);
      worker.send({ clutch: 'listen-failed', error: serializeError(failure) });
      return;
    }
    if (socket) this.#shared.keep(binding.key, socket, message.address);
    worker.send({ clutch: 'listening', address: message.address });
    const admitted = worker.state !== 'dead' && worker.state !== 'stopping' && this.#state !== 'stopping' && this.#state !== 'stopped';
    this.#serving(worker, binding.requested, message.address, admitted);
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
    const boot = deferBoot();
    this.#boots.set(agent, boot);
    agent.on('message', (raw) => this.#onChildMessage(agent, raw, undefined));
    agent.once('exit', (info) => {
      this.#boots.delete(agent);
      this.#watchdog.forget(agent);
      this.#relay.agentExited(agent);
      this.#relay.broadcastPids();
      const error = exitError(agent, boot, info.code, info.signal);
      boot.reject(error);
      // A death after its own boot but before the whole cluster is ready fails the start too.
      if (this.#state === 'starting') this.#abortStart?.(error);
      if (this.#state === 'ready' && !agent.retiring) {
        this.logger.error('agent %d exited (code %s, signal %s)%s', agent.pid, info.code, info.signal, boot.error ? `: ${error.message}` : '');
        const counts = !(boot.done && killedFromOutside(agent, info.code, info.signal));
        const reason = agent.killedFor ?? 'crash';
        this.#supervisor.agentDied(
          Date.now() - agent.startedAt,
          () => {
            if (this.#state === 'ready') this.#replaceAgent(reason);
          },
          counts,
        );
      }
    });
    this.logger.debug('forked agent %d', agent.pid);
    return agent;
  }

  #replaceAgent(reason: RestartReason): void {
    // At most one agent: a reload may have replaced the dead one already.
    if (this.#agent && this.#agent.state !== 'dead') return;
    this.#restarts.record('agent', reason);
    const agent = this.#forkAgent();
    this.#supervisor.bootDeadline(`agent ${agent.pid}`, this.#boots.get(agent)!.promise, () => agent.kill('SIGKILL'));
    void this.#boots.get(agent)!.promise.then(
      () => {
        this.logger.info('agent %d replaced the dead agent', agent.pid);
        agent.send({ clutch: 'cluster-ready', url: this.#readyInfo!.url });
      },
      () => {},
    );
  }

  #forkWorker(slot: number, candidate = false): WorkerProcess {
    const worker = new WorkerProcess(this.#childEnv());
    worker.candidate = candidate;
    this.#workers.add(worker);
    this.#slots.set(worker, slot);
    this.#relay.addWorker(worker);
    const boot = deferBoot();
    this.#boots.set(worker, boot);
    worker.on('message', (raw, socket) => this.#onChildMessage(worker, raw, socket));
    worker.once('exit', (info) => {
      this.#boots.delete(worker);
      this.#monitor.workerExited(worker);
      // A bind it never finished must not hold up the workers waiting for its port.
      this.#binding.get(worker)?.done();
      this.#binding.delete(worker);
      this.#watchdog.forget(worker);
      this.#workers.delete(worker);
      this.#slots.delete(worker);
      this.#relay.removeWorker(worker);
      // Connections handed to it and not yet written to its channel go to another worker.
      this.#listeners.exited(worker);
      this.#relay.broadcastPids();
      const error = exitError(worker, boot, info.code, info.signal);
      boot.reject(error);
      if (this.#state === 'starting') this.#abortStart?.(error);
      if (this.#state === 'ready' && !worker.retiring && !worker.candidate) {
        this.logger.error('worker %d exited (code %s, signal %s)%s', worker.pid, info.code, info.signal, boot.error ? `: ${error.message}` : '');
        // Killed from outside after it served (an operator, the OOM killer): no crash loop, no delay.
        const counts = !(boot.done && killedFromOutside(worker, info.code, info.signal));
        const reason = worker.killedFor ?? 'crash';
        this.#supervisor.workerDied(
          slot,
          Date.now() - worker.startedAt,
          () => {
            if (this.#state === 'ready') this.#replaceWorker(slot, reason);
          },
          counts,
        );
      }
    });
    this.logger.debug('forked worker %d (slot %d)', worker.pid, slot);
    return worker;
  }

  #replaceWorker(slot: number, reason: RestartReason): void {
    this.#restarts.record(slot, reason);
    const worker = this.#forkWorker(slot);
    this.#supervisor.bootDeadline(`worker ${worker.pid}`, this.#boots.get(worker)!.promise, () => worker.kill('SIGKILL'));
    void this.#boots.get(worker)!.promise.then(
      () => {
        this.logger.info('worker %d (slot %d) replaced a dead worker', worker.pid, slot);
        // serverDidReady runs again only in the replacement.
        worker.send({ clutch: 'cluster-ready', url: this.#readyInfo!.url });
      },
      () => {},
    );
  }

  #onChildMessage(handle: ChildHandle, raw: unknown, socket: unknown): void {
    const problem = checkChildMessage(raw);
    if (problem !== null) {
      this.logger.warn('[%s] ignored a message from %s %d: %s', ClusterErrorCode.IPC_MALFORMED, handle.role, handle.pid, problem);
      return;
    }
    const message = raw as ChildMessage;
    if ((message.clutch === 'send' || message.clutch === 'reply') && message.ack !== undefined) this.#relay.ack(handle, message.ack);
    (this.#dispatch[message.clutch] as (h: ChildHandle, m: ChildMessage, socket: unknown) => void)(handle, message, socket);
  }
}
