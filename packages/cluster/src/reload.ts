import type { ChildProcessHandle } from './child-handle.js';
import { ClusterErrorCode, ClutchError } from './errors.js';
import type { Logger } from './logger.js';
import { withTimeout } from './with-timeout.js';
import type { WorkerProcess } from './worker-process.js';

/** What the reload needs from the master. */
export interface ReloadHost {
  readonly logger: Logger;
  /** The worker slots, in order. */
  slots(): number[];
  /** The workers serving in a slot now (usually one). */
  inService(slot: number): WorkerProcess[];
  /** Forks a worker that is not in service (no refork if it dies) until admitted. Throws unless the cluster is ready. */
  forkCandidate(slot: number): WorkerProcess;
  /** Puts a listening candidate in service, recording why it replaced the old one. Throws unless the cluster is ready. */
  admit(worker: WorkerProcess, reason: RestartReason): void;
  /** Stops a process for good: drained, no refork. */
  retire(handle: ChildProcessHandle, reason: 'stop' | 'reload'): Promise<void>;
  /** The agent now, if any. */
  agent(): ChildProcessHandle | null;
  /** A pending refork of a dead agent must not fork a second one: the reload forks it. */
  cancelAgentRefork(): void;
  /** Forks a new agent (the old one is gone). Throws unless the cluster is ready. */
  forkAgent(): ChildProcessHandle;
  /** The new agent is ready: it gets `cluster-ready`, and the replacement is recorded. */
  admitAgent(agent: ChildProcessHandle): void;
  /** How long a new process may take to boot, ms. */
  readonly bootTimeout: number;
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
 * listening handle, so the port never closes, even with one worker), then drain and stop the old
 * one — and then the agent. A new worker that fails to boot ends the reload: it is discarded and
 * every worker not yet replaced keeps serving. Workers go first so that a broken app fails the
 * reload before the agent is touched: two agents never run at once, so an agent cannot be rolled back.
 */
export async function reload(host: ReloadHost, options: ReloadOptions): Promise<ReloadResult> {
  const began = Date.now();
  const result: ReloadResult = { workers: [], agent: null, ms: 0 };
  if (options.workers) {
    const slots = host.slots();
    for (const slot of slots) {
      // Re-read each time: a worker that died meanwhile was reforked — with the new code already.
      const old = host.inService(slot).filter((w) => w.startedAt < began);
      if (old.length === 0) continue;
      try {
        const pid = await replaceInSlot(host, slot, old, 'reload', (w) => host.retire(w, 'reload'));
        result.workers.push(pid);
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        throw new ClutchError(
          ClusterErrorCode.RELOAD_FAILED,
          `Reload stopped: ${reason}. ${result.workers.length} of ${slots.length} workers were replaced; the others keep serving the old code`,
          { cause: err },
        );
      }
    }
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
  retire: (worker: WorkerProcess) => Promise<void>,
): Promise<number> {
  const candidate = host.forkCandidate(slot);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ClutchError(ClusterErrorCode.START_TIMEOUT, `the new worker ${candidate.pid} did not listen within ${host.bootTimeout}ms`)),
      host.bootTimeout,
    );
  });
  try {
    await Promise.race([candidate.boot.promise, timeout]);
    host.admit(candidate, reason);
  } catch (err) {
    await host.retire(candidate, 'stop');
    throw err;
  } finally {
    clearTimeout(timer);
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
  const old = host.agent();
  if (old && old.state !== 'dead') await host.retire(old, 'reload');
  const agent = host.forkAgent();
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
  host.admitAgent(agent);
  host.logger.info('reload: agent %d replaces agent %d', agent.pid, old?.pid);
  return agent.pid;
}
