import type { Child, Children } from './children.js';
import { takesMessages } from './child-handle.js';
import type { ProfileKind, ProfileTarget } from './control.js';
import { ClusterErrorCode, ClutchError, deserializeError } from './errors.js';
import { takeProfile } from './inspect.js';
import type { Logger } from './logger.js';
import type { ProfileDataMessage } from './operator-protocol.js';

/** What `app profile` answers: whose profile, and its text (a `.cpuprofile` or `.heapsnapshot`). */
export interface ProfileResult {
  role: 'master' | 'agent' | 'worker';
  slot: number | null;
  pid: number;
  kind: ProfileKind;
  data: string;
}

/** A CPU profile's sampling time: 10 s unless asked, from 100 ms to 10 minutes. */
export const PROFILE_DEFAULT_MS = 10_000;
export const PROFILE_MIN_MS = 100;
export const PROFILE_MAX_MS = 600_000;
/** Past its sampling time, how long a process may take to send its profile or snapshot, ms. */
const DELIVERY_MS = 120_000;
/** The largest profile or snapshot the master carries: what the master holds at most while it passes it on. */
const MAX_CHARS = 512 * 1024 * 1024;

interface Pending {
  child: Child;
  chunks: string[];
  chars: number;
  settle(err: Error | null, data?: string): void;
}

/**
 * `app profile`: a CPU profile or heap snapshot of one process of the cluster, taken inside it
 * through node:inspector (inspect.ts) and carried to the master over IPC, in chunks, then to the
 * `app` command over the control channel. One at a time per process.
 */
export class Profiles {
  readonly #children: Pick<Children, 'agent' | 'bySlot'>;
  readonly #logger: Logger;
  readonly #pending = new Map<number, Pending>();
  readonly #busy = new Set<number>();
  #nextId = 1;

  constructor(children: Pick<Children, 'agent' | 'bySlot'>, logger: Logger) {
    this.#children = children;
    this.#logger = logger;
  }

  async take(target: ProfileTarget, kind: ProfileKind, durationMs: number | undefined): Promise<ProfileResult> {
    if (kind !== 'cpu' && kind !== 'heap') throw new ClutchError(ClusterErrorCode.PROFILE_FAILED, `Unknown profile kind ${JSON.stringify(kind)}: cpu or heap`);
    const ms = durationMs ?? PROFILE_DEFAULT_MS;
    if (!Number.isSafeInteger(ms) || ms < PROFILE_MIN_MS || ms > PROFILE_MAX_MS)
      throw new ClutchError(
        ClusterErrorCode.PROFILE_FAILED,
        `A CPU profile samples from ${PROFILE_MIN_MS} ms to ${PROFILE_MAX_MS} ms, not ${JSON.stringify(durationMs)}`,
      );
    const who = this.#find(target);
    const pid = who ? who.child.pid : process.pid;
    if (this.#busy.has(pid)) throw new ClutchError(ClusterErrorCode.PROFILE_FAILED, `A profile of process ${pid} is being taken already`);
    this.#busy.add(pid);
    const role = who ? who.child.role : 'master';
    this.#logger.info(
      'profile: %s of %s %d%s',
      kind === 'cpu' ? `a ${ms} ms CPU profile` : 'a heap snapshot',
      role,
      pid,
      who?.slot != null ? ` (slot ${who.slot})` : '',
    );
    try {
      const data = who ? await this.#ask(who.child, kind, ms) : await takeProfile(kind, ms);
      return { role, slot: who?.slot ?? null, pid, kind, data };
    } catch (err) {
      if ((err as { code?: string }).code === ClusterErrorCode.PROFILE_FAILED) throw err;
      throw new ClutchError(ClusterErrorCode.PROFILE_FAILED, `The profile of ${role} ${pid} failed: ${(err as Error).message}`, { cause: err });
    } finally {
      this.#busy.delete(pid);
    }
  }

  /** Part of a profile from a child. */
  data(child: Child, message: ProfileDataMessage): void {
    const pending = this.#pending.get(message.id);
    if (!pending || pending.child !== child) return;
    if (message.chunk) {
      pending.chunks.push(message.chunk);
      pending.chars += message.chunk.length;
      if (pending.chars > MAX_CHARS) pending.settle(new ClutchError(ClusterErrorCode.PROFILE_FAILED, `The profile is larger than ${MAX_CHARS} characters`));
    }
    if (!message.done) return;
    if (message.error) pending.settle(deserializeError(message.error));
    else pending.settle(null, pending.chunks.join(''));
  }

  /** The process named by `target`, or null for the master; PROFILE_NO_TARGET when none such runs. */
  #find(target: ProfileTarget): { child: Child; slot: number | null } | null {
    if (target === 'master') return null;
    if (target === 'agent') {
      const agent = this.#children.agent;
      if (agent && takesMessages(agent.state)) return { child: agent, slot: null };
      throw new ClutchError(ClusterErrorCode.PROFILE_NO_TARGET, 'No agent is running right now');
    }
    const worker = Number.isSafeInteger(target)
      ? this.#children.bySlot().find(({ worker, slot }) => slot === target && worker.inService && takesMessages(worker.state))
      : undefined;
    if (worker) return { child: worker.worker, slot: worker.slot };
    const slots = this.#children.bySlot().map(({ slot }) => slot);
    throw new ClutchError(
      ClusterErrorCode.PROFILE_NO_TARGET,
      `No worker serves in slot ${JSON.stringify(target)} (slots: ${[...new Set(slots)].join(', ') || 'none'})`,
    );
  }

  #ask(child: Child, kind: ProfileKind, ms: number): Promise<string> {
    const id = this.#nextId++;
    return new Promise<string>((resolve, reject) => {
      const onExit = () => pending.settle(new ClutchError(ClusterErrorCode.PROFILE_FAILED, `${child.role} ${child.pid} exited before its profile was sent`));
      const timer = setTimeout(
        () => pending.settle(new ClutchError(ClusterErrorCode.PROFILE_FAILED, `${child.role} ${child.pid} sent no profile within ${ms + DELIVERY_MS} ms`)),
        ms + DELIVERY_MS,
      );
      const pending: Pending = {
        child,
        chunks: [],
        chars: 0,
        settle: (err, data) => {
          clearTimeout(timer);
          child.off('exit', onExit);
          this.#pending.delete(id);
          if (err) reject(err);
          else resolve(data!);
        },
      };
      this.#pending.set(id, pending);
      child.once('exit', onExit);
      if (!child.send({ clutch: 'profile', id, kind, durationMs: ms })) onExit();
    });
  }
}
