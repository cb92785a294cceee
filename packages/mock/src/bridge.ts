import type { ChildTransport, ClusterPids, FrameworkMessage, MessageTarget, SenderRole } from '@clutch/cluster';
import { codedError, type ChildMessage } from '@clutch/cluster';

/**
 * The in-process worker is `process.pid`, as project code expects of a worker; the agent, in the
 * same process, needs another address: a synthetic pid.
 */
export const WORKER_PID = process.pid;
export const AGENT_PID = process.pid + 1_000_000;

interface End {
  role: Exclude<SenderRole, 'master'>;
  pid: number;
  handler: ((message: FrameworkMessage) => void) | null;
  ready: boolean;
  waiting: FrameworkMessage[];
}

/**
 * The master's relay, in one process: routes messages between the in-process agent and worker the
 * way the real master does — asynchronously, in order, each message through a JSON round trip (as
 * IPC would), and held for a side that is not ready yet.
 */
export class Bridge {
  readonly #ends: Record<'agent' | 'app', End> = {
    agent: { role: 'agent', pid: AGENT_PID, handler: null, ready: false, waiting: [] },
    app: { role: 'app', pid: WORKER_PID, handler: null, ready: false, waiting: [] },
  };
  #queue: Array<() => void> = [];
  #scheduled = false;

  pids(): ClusterPids {
    return { agent: this.#ends.agent.ready ? AGENT_PID : null, workers: this.#ends.app.ready ? [WORKER_PID] : [] };
  }

  transport(side: 'agent' | 'app'): ChildTransport {
    const end = this.#ends[side];
    return {
      pid: end.pid,
      masterPid: process.pid,
      send: (message) => {
        this.#route(end, JSON.parse(JSON.stringify(message)) as ChildMessage);
        return true;
      },
      onMessage: (handler) => {
        end.handler = handler;
      },
    };
  }

  /** A side finished booting: it gets the pids, then what waited for it. */
  ready(side: 'agent' | 'app'): void {
    const end = this.#ends[side];
    end.ready = true;
    for (const e of Object.values(this.#ends)) if (e.ready) this.#deliver(e, { clutch: 'pids', ...this.pids() });
    for (const message of end.waiting.splice(0)) this.#deliver(end, message);
  }

  #target(to: MessageTarget): End[] | null {
    if (to === 'agent' || to === AGENT_PID) return [this.#ends.agent];
    if (to === 'app' || to === 'random' || to === WORKER_PID) return [this.#ends.app];
    if (to === 'all') return [this.#ends.agent, this.#ends.app];
    return null;
  }

  #route(from: End, message: ChildMessage): void {
    if (message.clutch === 'send') {
      const targets = this.#target(message.to);
      if (!targets) {
        this.#deliver(from, {
          clutch: 'undeliverable',
          action: message.action,
          ...(message.rid ? { rid: message.rid } : {}),
          error: codedError('CLUTCH_ERR_MESSENGER_UNKNOWN_TARGET', `No process of this cluster has pid ${message.to} (message "${message.action}")`),
        });
        return;
      }
      for (const end of targets) {
        const out: FrameworkMessage = {
          clutch: 'deliver',
          action: message.action,
          ...(message.payload !== undefined ? { payload: message.payload } : {}),
          from: from.role,
          pid: from.pid,
          ...(message.rid ? { rid: message.rid } : {}),
        };
        if (end.ready) this.#deliver(end, out);
        else end.waiting.push(out);
      }
      // In one process nothing piles up in between: the bytes are given back at once.
      if (message.payload) this.#deliver(from, { clutch: 'credit', credits: [[message.to, message.size ?? message.payload.length]] });
    } else if (message.clutch === 'reply') {
      const end = this.#target(message.to)?.[0];
      if (end)
        this.#deliver(end, {
          clutch: 'reply',
          rid: message.rid,
          ...(message.payload !== undefined ? { payload: message.payload } : {}),
          ...(message.error ? { error: message.error } : {}),
          from: from.role,
          pid: from.pid,
        });
      if (message.payload) this.#deliver(from, { clutch: 'credit', credits: [[message.to, message.size ?? message.payload.length]] });
    }
  }

  /** Delivers on a later turn, in order, as a message that crossed a channel would arrive. */
  #deliver(end: End, message: FrameworkMessage): void {
    this.#queue.push(() => end.handler?.(message));
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      const batch = this.#queue;
      this.#queue = [];
      for (const run of batch) run();
    });
  }
}
