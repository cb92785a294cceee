import { urlOf } from './child-boot.js';
import { ClusterErrorCode, ClutchError, serializeError } from './errors.js';
import type { ListenConfig } from './framework.js';
import { Listeners } from './listeners.js';
import { portInUse } from './port-in-use.js';
import type { BoundMessage, ListenAddress } from './protocol.js';
import type { RawHandle } from './round-robin.js';
import { SharedSockets, reusePortSupported } from './shared-sockets.js';
import type { WorkerProcess } from './worker-process.js';

/** What the broker needs of the master. */
export interface ListenBrokerHost {
  /** The CLI's --port, which wins over the address a worker's config asks for. */
  readonly port: number | undefined;
  /** reusePort as the command line says (undefined: the project's config decides). */
  readonly reusePort: boolean | undefined;
  /** The scheduling in force: the command line's, else the project's, else 'rr'. */
  scheduling(): 'rr' | 'os';
  /** Sticky sessions in force: the command line's, else the project's. */
  sticky(): boolean;
  slotOf(worker: WorkerProcess): number;
  /** False once the worker is stopping or the cluster stops: it is then not put in service. */
  admits(worker: WorkerProcess): boolean;
  /** The worker serves at `url` now (`admitted` false: it listened, but a stop came meanwhile). */
  serving(worker: WorkerProcess, where: { url: string; port: number | null }, admitted: boolean): void;
}

/**
 * How a worker comes to serve HTTP, in each scheduling mode. Round-robin ('rr'): the master binds
 * the address once and hands the worker connections (listeners.ts). 'os' and reusePort: the worker
 * listens on a socket of its own — the one the master keeps for the cluster ('os') or for its slot
 * (reusePort), or, the first time, one the worker binds and hands over (shared-sockets.ts).
 */
export class ListenBroker {
  readonly #host: ListenBrokerHost;
  readonly #listeners = new Listeners({ sticky: () => this.#host.sticky() });
  readonly #shared = new SharedSockets();
  /** Per worker asked to bind a socket: the key its socket will be kept under. */
  readonly #binding = new Map<WorkerProcess, { key: string; requested: ListenConfig; config: ListenConfig; done: () => void }>();
  /** A bind with port 0 under way, per address: the other slots wait for its port (reusePort: one port for all). */
  readonly #firstBind = new Map<string, Promise<void>>();
  /** Set once a worker listens with SO_REUSEPORT: each slot has a socket (and a queue) of its own. */
  #perSlot = false;

  constructor(host: ListenBrokerHost) {
    this.#host = host;
  }

  /**
   * Throws CLUTCH_ERR_CLUSTER_REUSEPORT_UNSUPPORTED when reusePort is asked for where the platform
   * lacks it, and CLUTCH_ERR_CLUSTER_STICKY_UNSUPPORTED when the command line asks for sticky
   * sessions with a mode where the master does not accept. (What the project's config asks for is
   * checked as each worker listens: the config is known only once the agent has read it.)
   */
  checkSupported(): void {
    const why = this.#host.reusePort ? reusePortSupported() : null;
    if (why)
      throw new ClutchError(
        ClusterErrorCode.REUSEPORT_UNSUPPORTED,
        `--reuse-port (cluster.listen.reusePort) is not available here: ${why}; use the default round-robin or --scheduling os`,
      );
    const conflict = this.#stickyConflict({}, this.#host.reusePort ?? false);
    if (conflict) throw conflict;
  }

  /** Why sticky sessions cannot work with this listening mode, as an error; null when they can (or are off). */
  #stickyConflict(config: ListenConfig, reusePort: boolean): ClutchError | null {
    if (!this.#host.sticky()) return null;
    const why = reusePort
      ? 'with reusePort (--reuse-port) each worker accepts on its own socket and the kernel picks which'
      : this.#host.scheduling() === 'os'
        ? "with scheduling 'os' (--scheduling os) the workers accept on a shared socket and the kernel picks which"
        : config.path
          ? `a unix socket (${config.path}) gives no remote address to pick a worker by`
          : null;
    if (!why) return null;
    return new ClutchError(
      ClusterErrorCode.STICKY_UNSUPPORTED,
      `cluster.sticky (--sticky) needs the master to accept every connection over TCP, and ${why}; use the default round-robin scheduling on a port, or turn sticky off`,
    );
  }

  /** A worker asks to serve HTTP at `requested` (its config). */
  async listen(worker: WorkerProcess, requested: ListenConfig): Promise<void> {
    // The CLI's --port wins over the address, never over what the server speaks (TLS, HTTP/2).
    const port = this.#host.port;
    const config: ListenConfig = port !== undefined ? { port, ...(requested.hostname ? { hostname: requested.hostname } : {}) } : requested;
    const reusePort = this.#host.reusePort ?? requested.reusePort ?? false;
    const conflict = this.#stickyConflict(config, reusePort);
    if (conflict) {
      worker.send({ clutch: 'listen-failed', error: serializeError(conflict) });
      return;
    }
    if (reusePort) this.#perSlot = true;
    if (reusePort || this.#host.scheduling() === 'os') {
      await this.#listenShared(worker, requested, config, reusePort);
      return;
    }
    let address: ListenAddress;
    try {
      address = await this.#listeners.join(worker, config, () => this.#host.admits(worker), this.#host.slotOf(worker));
    } catch (err) {
      await this.#failed(worker, err, config);
      return;
    }
    worker.send({ clutch: 'listening', address });
    this.#host.serving(worker, urlOf(address, requested.tls !== undefined), this.#host.admits(worker));
  }

  /** The worker listens on its own socket now (or could not bind one). */
  async bound(worker: WorkerProcess, message: BoundMessage, socket: RawHandle | undefined): Promise<void> {
    const binding = this.#binding.get(worker);
    this.#binding.delete(worker);
    if (!binding) return;
    // The port is known (or the bind failed): whoever waited for it goes on, once it is kept below.
    queueMicrotask(binding.done);
    if (message.error || !message.address) {
      await this.#failed(worker, Object.assign(new Error(message.error?.message ?? 'bind failed'), { code: message.error?.code }), binding.config);
      return;
    }
    if (socket) this.#shared.keep(binding.key, socket, message.address);
    worker.send({ clutch: 'listening', address: message.address });
    this.#host.serving(worker, urlOf(message.address, binding.requested.tls !== undefined), this.#host.admits(worker));
  }

  /** Takes a worker out of its rotation: it is handed no new connection (it is about to drain). */
  leave(worker: WorkerProcess): void {
    this.#listeners.leave(worker);
  }

  /**
   * The worker missed its heartbeats: round-robin hands it nothing new until it answers. ('os' and
   * reusePort cannot: the kernel picks the worker there.)
   */
  suspend(worker: WorkerProcess): void {
    this.#listeners.suspend(worker);
  }

  resume(worker: WorkerProcess): void {
    this.#listeners.resume(worker);
  }

  /** The worker exited: what it never received goes to another worker; a bind it never finished holds nobody up. */
  exited(worker: WorkerProcess): void {
    this.#binding.get(worker)?.done();
    this.#binding.delete(worker);
    this.#listeners.exited(worker);
  }

  /** True once the workers listen with SO_REUSEPORT (a socket per slot). */
  get perSlotSockets(): boolean {
    return this.#perSlot;
  }

  inRotation(): number {
    return this.#listeners.inRotation();
  }

  waiting(): number {
    return this.#listeners.waiting();
  }

  /** The cluster stops: no new connection is accepted. A socket the workers listen on themselves closes once the last of them has closed its copy. */
  closeAll(): void {
    this.#listeners.closeAll();
    this.#shared.closeAll();
  }

  async #failed(worker: WorkerProcess, err: unknown, config: ListenConfig): Promise<void> {
    const failure = await portInUse(err as NodeJS.ErrnoException, config).catch((e: unknown) => e);
    worker.send({ clutch: 'listen-failed', error: serializeError(failure) });
  }

  async #listenShared(worker: WorkerProcess, requested: ListenConfig, config: ListenConfig, reusePort: boolean): Promise<void> {
    const unsupported = reusePort ? reusePortSupported() : null;
    if (unsupported) {
      const err = new ClutchError(ClusterErrorCode.REUSEPORT_UNSUPPORTED, `cluster.listen.reusePort (--reuse-port) is not available here: ${unsupported}`);
      worker.send({ clutch: 'listen-failed', error: serializeError(err) });
      return;
    }
    const base = SharedSockets.key(config, null);
    // Port 0: the first socket takes a free port; every other waits and binds that one.
    for (let first = this.#firstBind.get(base); first && (this.#shared.resolve(config).port ?? 0) === 0; first = this.#firstBind.get(base)) await first;
    const key = SharedSockets.key(config, reusePort ? this.#host.slotOf(worker) : null);
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
}
