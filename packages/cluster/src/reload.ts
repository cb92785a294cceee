import type { Children } from './children.js';
import { ClusterErrorCode, ClutchError } from './errors.js';
import type { Logger } from './logger.js';
import { withTimeout } from './with-timeout.js';
import type { MasterState } from './master.js';
import type { RestartLog } from './restart-log.js';
import type { Stopper } from './stopper.js';
import type { WorkerProcess } from './worker-process.js';

/** What the reload needs from the master. */
export interface ReloadHost {
  readonly logger: Logger;
  readonly children: Children;
  readonly restarts: RestartLog;
  /** How long a new process may take to boot, ms. */
  readonly bootTimeout: number;
  /** The master's state: a reload begins only when it is ready, and each step checks it still is. */
  state(): MasterState;
  /** The cluster's URL (what `cluster-ready` tells a new process). */
  url(): string;
  /** Framework work done once in the master before new processes boot (compiling TypeScript). */
  prepare(): Promise<void>;
  /** How a process is ended for good: out of the rotation, drained, no refork. */
  readonly stopper: Stopper;
  /** A pending refork of a dead agent must not fork a second one: the reload forks it. */
  cancelAgentRefork(): void;
}

/** Why a process was replaced: it died unasked, stopped answering, outgrew --max-memory, or a reload replaced it. */
export type RestartReason = 'crash' | 'stalled' | 'memory' | 'reload';

export interface ReloadOptions {
  workers: boolean;
  agent: boolean;
}

export interface ReloadResult {
  /** Pids of the processes that replaced the old ones. */
  workers: number[];
  agent: number | null;
  ms: number;
}

/**
 * Replaces every worker, one at a time — fork the new one, wait until it listens (it shares the
 * listening handle, so the port never closes, even with one worker), then start draining the old
 * one and go on to the next — and, once every old worker has exited, the agent. A new worker that
 * fails to boot ends the reload: it is discarded and every worker not yet replaced keeps serving. Workers go first so that a broken app fails the
 * reload before the agent is touched: two agents never run at once, so an agent cannot be rolled back.
 */
export async function reload(host: ReloadHost, options: ReloadOptions): Promise<ReloadResult> {
  const began = Date.now();
  const result: ReloadResult = { workers: [], agent: null, ms: 0 };
  if (options.workers) {
    const slots = host.children.slots();
    // An old worker drains while the next slot's new one boots: its idle keep-alive connections
    // are left to their keep-alive timeout (http-server.ts), and waiting for each in turn would
    // add that timeout once per worker. The reload is done when every one of them has exited.
    const retiring: Promise<unknown>[] = [];
    const retire = (w: WorkerProcess) => {
      retiring.push(host.stopper.retire(w, 'reload'));
      return Promise.resolve();
    };
    for (const slot of slots) {
      // Re-read each time: a worker that died meanwhile was reforked — with the new code already.
      const old = host.children.inService(slot).filter((w) => w.startedAt < began);
      if (old.length === 0) continue;
      try {
        const pid = await replaceInSlot(host, slot, old, 'reload', retire);
        result.workers.push(pid);
      } catch (err) {
        await Promise.allSettled(retiring);
        const reason = err instanceof Error ? err.message : String(err);
        // A stop asked for meanwhile ends the reload too: then nobody keeps serving anything.
        const rest = host.state() === 'ready' ? 'the others keep serving the old code' : 'the cluster is stopping';
        throw new ClutchError(
          ClusterErrorCode.RELOAD_FAILED,
          `Reload stopped: ${reason}. ${result.workers.length} of ${slots.length} workers were replaced; ${rest}`,
          { cause: err },
        );
      }
    }
    await Promise.allSettled(retiring);
  }
  if (options.agent) {
    try {
      result.agent = await replaceAgent(host);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new ClutchError(
        ClusterErrorCode.RELOAD_FAILED,
        `Reload stopped: the new agent failed: ${reason}. The workers serve; the master keeps retrying the agent`,
        { cause: err },
      );
    }
  }
  result.ms = Date.now() - began;
  return result;
}

/**
 * One step of a reload, also how the master recycles a worker that outgrew --max-memory or
 * stalled: fork a new worker in `slot`, wait until it listens (the port never closes), put it in
 * service, then let `retire` take the old one out. A new worker that fails to boot is discarded,
 * and the old ones are left as they are: the error is the caller's.
 */
export async function replaceInSlot(
  host: ReloadHost,
  slot: number,
  old: WorkerProcess[],
  reason: RestartReason,
  retire: (worker: WorkerProcess) => Promise<unknown>,
): Promise<number> {
  stillReady(host);
  const candidate = host.children.forkWorker(slot, true);
  try {
    await withTimeout(
      candidate.boot.promise,
      host.bootTimeout,
      () => new ClutchError(ClusterErrorCode.START_TIMEOUT, `the new worker ${candidate.pid} did not listen within ${host.bootTimeout}ms`),
    );
    stillReady(host);
    candidate.admit();
    host.restarts.record(slot, reason);
    candidate.send({ clutch: 'cluster-ready', url: host.url() });
  } catch (err) {
    await host.stopper.retire(candidate, 'stop');
    throw err;
  }
  host.logger.info('%s: worker %d replaces worker %s (slot %d)', reason, candidate.pid, old.map((w) => w.pid).join(', '), slot);
  await Promise.all(old.map(retire));
  return candidate.pid;
}

/**
 * The agent's half of a reload: the old agent stops (beforeClose) before the new one is forked —
 * two agents never run at once, which is why an agent cannot be rolled back — and messages for the
 * agent wait in the master in between. A new agent that fails to be ready within the boot timeout
 * is killed and left to supervision, which retries it with backoff.
 */
export async function replaceAgent(host: ReloadHost): Promise<number> {
  host.cancelAgentRefork();
  const old = host.children.agent;
  if (old && old.state !== 'dead') await host.stopper.retire(old, 'reload');
  stillReady(host);
  const agent = host.children.forkAgent();
  try {
    await withTimeout(
      agent.boot.promise,
      host.bootTimeout,
      () => new ClutchError(ClusterErrorCode.START_TIMEOUT, `the new agent ${agent.pid} was not ready within ${host.bootTimeout}ms`),
    );
  } catch (err) {
    // Not retiring: supervision takes over and retries the agent with backoff.
    agent.kill('SIGKILL');
    throw err;
  }
  agent.send({ clutch: 'cluster-ready', url: host.url() });
  host.restarts.record('agent', 'reload');
  host.logger.info('reload: agent %d replaces agent %d', agent.pid, old?.pid);
  return agent.pid;
}

/** A stop that began during a reload ends it: no new process is forked or put in service. */
function stillReady(host: ReloadHost): void {
  const state = host.state();
  if (state !== 'ready') throw new ClutchError(ClusterErrorCode.RELOAD_FAILED, `the cluster is ${state}`);
}

/** The master's reloads, one at a time. */
export class Reloader {
  readonly #host: ReloadHost;
  #running = false;

  constructor(host: ReloadHost) {
    this.#host = host;
  }

  get running(): boolean {
    return this.#running;
  }

  /** Rejects with …_RELOAD_REFUSED unless the cluster is ready and no other reload runs. */
  async run(options: ReloadOptions): Promise<ReloadResult> {
    const { logger } = this.#host;
    const state = this.#host.state();
    if (state !== 'ready') throw new ClutchError(ClusterErrorCode.RELOAD_REFUSED, `Cannot reload while the cluster is ${state}`);
    if (this.#running) throw new ClutchError(ClusterErrorCode.RELOAD_REFUSED, 'A reload is already running');
    this.#running = true;
    logger.info('reload: replacing %s', [options.workers && 'the workers', options.agent && 'the agent'].filter(Boolean).join(' and '));
    const replaced = [options.workers && 'workers', options.agent && 'agent'].filter(Boolean).join('+');
    const began = Date.now();
    try {
      await this.#host.prepare();
      const result = await reload(this.#host, options);
      this.#host.restarts.reloaded(replaced, result.ms);
      logger.info('reload done in %dms', result.ms);
      return result;
    } catch (err) {
      this.#host.restarts.reloaded(replaced, Date.now() - began, false);
      logger.error('%s', err instanceof Error ? err.message : err);
      throw err;
    } finally {
      this.#running = false;
    }
  }
}
