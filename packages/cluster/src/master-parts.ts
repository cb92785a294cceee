import type { Child } from './children.js';
import { Children } from './children.js';
import type { ClusterSettings } from './framework.js';
import { readEnvFiles } from './env-files.js';
import { ListenBroker } from './listen-broker.js';
import { prepareProject } from './load-framework.js';
import { LOG_FORMAT_ENV, setLogFormat, type Logger } from './logger.js';
import type { DispatchParts } from './master-dispatch.js';
import type { MasterState } from './master.js';
import { Monitor } from './monitor.js';
import type { ClusterOptions } from './options.js';
import { Profiles } from './profiles.js';
import { Readiness } from './readiness.js';
import { Recycler } from './recycler.js';
import { Relay } from './relay.js';
import { Reloader, type ReloadHost } from './reload.js';
import { RestartLog } from './restart-log.js';
import { Scaler, defaultMaxWorkers } from './scaler.js';
import { EffectiveSettings } from './settings.js';
import type { ClusterStatus } from './status.js';
import { Stopper } from './stopper.js';
import { Supervisor, type BackoffOptions } from './supervisor.js';
import { Watchdog } from './watchdog.js';
import type { WorkerProcess } from './worker-process.js';

/** What the parts read of the master that owns them. */
export interface MasterView {
  state(): MasterState;
  /** The master's state as `app status` shows it ('reloading' while a reload runs). */
  statusState(): ClusterStatus['master']['state'];
  /** The cluster's URL, once a worker serves. */
  url(): string | null;
  /** Why the master itself is not ready, or null (readiness.ts adds the processes' checks). */
  notReady(): string | null;
  /** A worker serves at `where` (`admitted` false: it listened, but a stop came meanwhile). */
  serving(worker: WorkerProcess, where: { url: string; port: number | null }, admitted: boolean): void;
}

/**
 * Everything a master orchestrates, made and wired once: the processes and their slots, the relay,
 * the listening sockets, supervision, the watchdog and what it triggers, reloads, the stopper, and
 * what operators see. Each part gets the others it needs directly; only what is the master's own
 * (its state, its URL) is read through `MasterView`.
 */
export class MasterParts implements DispatchParts {
  readonly logger: Logger;
  readonly #options: ClusterOptions;
  /** The command line's flags over the project's config over the defaults. */
  readonly settings: EffectiveSettings;
  readonly restarts = new RestartLog();
  readonly supervisor: Supervisor;
  readonly relay: Relay;
  readonly children: Children;
  /** How workers come to serve, and the listening sockets the master holds (the port stays open whatever happens to the workers). */
  readonly listen: ListenBroker;
  readonly stopper: Stopper;
  readonly reloader: Reloader;
  readonly recycler: Recycler;
  readonly scaler: Scaler;
  readonly profiles: Profiles;
  readonly watchdog: Watchdog<Child>;
  readonly monitor: Monitor;
  /** What /readyz answers, and why. */
  readonly readiness: Readiness;

  constructor(options: ClusterOptions, logger: Logger, backoff: BackoffOptions, view: MasterView) {
    this.logger = logger;
    this.#options = options;
    this.settings = new EffectiveSettings(options);
    this.supervisor = new Supervisor({ backoff, logger, startTimeout: options.startTimeout });
    this.relay = new Relay({ maxPending: options.maxPending, logger });
    this.children = new Children(options, logger, () => ({
      heartbeatMs: this.watchdog.heartbeatMs,
      bootErrorReported: view.state() === 'starting',
      ...(this.settings.maxMemory !== undefined ? { maxMemory: this.settings.maxMemory } : {}),
    }));
    const stopping = () => view.state() === 'stopping' || view.state() === 'stopped';
    this.listen = new ListenBroker({
      port: options.port,
      reusePort: options.reusePort,
      scheduling: () => this.settings.scheduling,
      sticky: () => this.settings.sticky,
      slotOf: (worker) => this.children.slotOf(worker),
      admits: (worker) => worker.state !== 'dead' && worker.state !== 'stopping' && !stopping(),
      serving: (worker, where, admitted) => view.serving(worker, where, admitted),
    });
    this.stopper = new Stopper({ logger, stopTimeout: options.stopTimeout, leave: (worker) => this.listen.leave(worker) });
    const reloadHost: ReloadHost = {
      logger,
      children: this.children,
      restarts: this.restarts,
      bootTimeout: options.startTimeout,
      stopper: this.stopper,
      state: () => view.state(),
      url: () => view.url()!,
      prepare: () => this.prepare(),
      cancelAgentRefork: () => this.supervisor.cancelAgentRefork(),
    };
    this.reloader = new Reloader(reloadHost);
    this.profiles = new Profiles(this.children, logger);
    this.scaler = new Scaler(
      {
        logger,
        children: this.children,
        stopper: this.stopper,
        bootTimeout: options.startTimeout,
        state: () => view.state(),
        url: () => view.url()!,
        reloading: () => this.reloader.running,
        perSlotSockets: () => this.listen.perSlotSockets,
      },
      options.workers,
      options.maxWorkers ?? defaultMaxWorkers(options.workers),
    );
    this.recycler = new Recycler(reloadHost, {
      canRecycle: () => !this.reloader.running && !this.scaler.running,
      leave: (worker) => this.listen.leave(worker),
      suspend: (worker) => this.listen.suspend(worker),
      resume: (worker) => this.listen.resume(worker),
      maxMemory: () => this.settings.maxMemory,
      // Others that shed and still answer, while this one does not shed itself (then it is no spare capacity).
      othersShedding: (worker) => {
        const sheds = (w: WorkerProcess) => this.watchdog.vitals(w)?.last?.shed?.active === true && this.watchdog.vitals(w)?.responsive !== false;
        return !sheds(worker) && this.children.workers.some((w) => w !== worker && w.inService && sheds(w));
      },
    });
    const recycler = this.recycler;
    this.watchdog = new Watchdog<Child>({
      stallTimeout: this.settings.stallTimeout,
      maxMemory: this.settings.maxMemory,
      onStall: (child, silent) => recycler.onStall(child, silent),
      onMemory: (child, rss) => recycler.onMemory(child, rss),
      onUnresponsive: (child, silent) => recycler.onUnresponsive(child, silent),
      onResponsive: (child) => recycler.onResponsive(child),
    });
    const watchdog = this.watchdog;
    this.readiness = new Readiness({
      children: this.children,
      slots: () => this.scaler.count,
      minReady: () => this.settings.minReady,
      masterReady: () => view.notReady(),
      responsive: (worker) => watchdog.vitals(worker)?.responsive ?? true,
    });
    this.monitor = new Monitor(
      {
        title: options.title,
        baseDir: options.baseDir,
        env: options.env,
        masterState: () => view.statusState(),
        url: () => view.url(),
        children: this.children,
        readiness: () => this.readiness.verdict(),
        workersInRotation: () => this.listen.inRotation(),
        waitingConnections: () => this.listen.waiting(),
        messenger: () => this.relay.stats(),
        logger,
      },
      this.watchdog,
      this.restarts,
    );
  }

  /**
   * The master's work before it forks (the start, each reload): the env files read again, and the
   * framework's own preparation. Nothing changes unless both succeed, so a reload that fails here
   * leaves the old processes as they were.
   */
  async prepare(): Promise<void> {
    const fromFiles = readEnvFiles(this.#options.envFiles ?? []);
    await prepareProject(this.#options.framework, this.#options.baseDir, this.logger);
    this.children.setFileEnv(fromFiles);
  }

  /** The project's config, as the agent read it: what the command line did not set. */
  applySettings(settings: ClusterSettings): void {
    this.settings.apply(settings);
    this.children.setTelemetry(settings.telemetry);
    this.watchdog.configure({ stallTimeout: this.settings.stallTimeout, maxMemory: this.settings.maxMemory });
    if (settings.logFormat && process.env[LOG_FORMAT_ENV] === undefined) {
      // The workers are forked after this, with the format in their environment.
      process.env[LOG_FORMAT_ENV] = settings.logFormat;
      setLogFormat(settings.logFormat);
    }
  }
}
