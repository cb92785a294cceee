import type { ChildMessage, ChildTransport, ClusterPids, FrameworkMessage, Logger, MasterMessage } from '@clutch/cluster';
import { DEFAULTS } from '@clutch/cluster';
// The master's own relay: the mock routes, queues and refuses exactly as a cluster does.
import { Relay, type RelayPeer } from '@clutch/cluster/relay';

/**
 * The in-process worker is `process.pid`, as project code expects of a worker; the agent, in the
 * same process, needs another address: a synthetic pid.
 */
export const WORKER_PID = process.pid;
export const AGENT_PID = process.pid + 1_000_000;

/** One side of the bridge, as the relay sees it: a process whose channel is a later turn of this one. */
class End implements RelayPeer {
  state: RelayPeer['state'] = 'booting';
  handler: ((message: FrameworkMessage) => void) | null = null;
  readonly role: 'agent' | 'worker';
  readonly pid: number;
  readonly #bridge: Bridge;

  constructor(role: 'agent' | 'worker', pid: number, bridge: Bridge) {
    this.role = role;
    this.pid = pid;
    this.#bridge = bridge;
  }

  send(message: MasterMessage, written?: (err: Error | null) => void): boolean {
    this.#bridge.deliver(this, message, written);
    return true;
  }
}

/**
 * The master's relay, in one process: messages between the in-process agent and worker go through
 * the real Relay — asynchronously, in order, each through a JSON round trip (as IPC would), held
 * for a side that is not ready yet, bounded and refused as in a cluster.
 */
export class Bridge {
  readonly #relay: Relay;
  readonly #ends: Record<'agent' | 'app', End>;
  #queue: Array<() => void> = [];
  #scheduled = false;

  constructor(logger: Logger) {
    this.#relay = new Relay({ maxPending: DEFAULTS.maxPending, logger });
    this.#ends = { agent: new End('agent', AGENT_PID, this), app: new End('worker', WORKER_PID, this) };
    this.#relay.setAgent(this.#ends.agent);
    this.#relay.addWorker(this.#ends.app);
    this.#relay.closeBacklog();
  }

  pids(): ClusterPids {
    return this.#relay.pids();
  }

  transport(side: 'agent' | 'app'): ChildTransport {
    const end = this.#ends[side];
    return {
      pid: end.pid,
      masterPid: process.pid,
      send: (message) => {
        const crossed = JSON.parse(JSON.stringify(message)) as ChildMessage;
        if (crossed.clutch === 'send') this.#relay.route(end, crossed);
        else if (crossed.clutch === 'reply') this.#relay.reply(end, crossed);
        return true;
      },
      onMessage: (handler) => {
        end.handler = handler;
      },
    };
  }

  /** A side finished booting: everyone gets the pids, then it gets what waited for it. */
  ready(side: 'agent' | 'app'): void {
    const end = this.#ends[side];
    end.state = 'ready';
    this.#relay.markReady(end);
  }

  /** Delivers on a later turn, in order, as a message that crossed a channel would arrive. */
  deliver(end: End, message: MasterMessage, written?: (err: Error | null) => void): void {
    const crossed = JSON.parse(JSON.stringify(message)) as FrameworkMessage & { seq?: number };
    this.#queue.push(() => {
      written?.(null);
      end.handler?.(crossed);
      // What the child runtime does after dispatching: acknowledge it (the relay then forgets it).
      if (typeof crossed.seq === 'number') this.#relay.ack(end, crossed.seq);
    });
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
