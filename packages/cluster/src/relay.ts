import type { ChildHandle } from './child-handle.js';
import { ClusterErrorCode, type SerializedError } from './errors.js';
import type { Logger } from './logger.js';
import type { DeliverMessage, DeliverReplyMessage, MasterMessage, PidsMessage, ReplyMessage, SendMessage } from './protocol.js';

type Queue = MasterMessage[];

/**
 * The master's routing table for messages between the agent and the workers.
 *
 * Delivery is exactly once and in order per sender: IPC channels are ordered, the relay handles
 * messages in arrival order, and a message for a process that is not ready yet waits in a FIFO that
 * is flushed, before anything newer, the moment the process is ready. Waiting is bounded by
 * `maxPending` per queue; overflow goes back to the sender as an error.
 */
export class Relay {
  readonly #maxPending: number;
  readonly #logger: Logger;
  #agent: ChildHandle | null = null;
  readonly #workers = new Set<ChildHandle>();
  /** Messages for the agent while no agent is ready (at start, or while one is replaced). */
  readonly #agentQueue: Queue = [];
  /** Per starting worker: what it gets once ready. */
  readonly #workerQueues = new Map<ChildHandle, Queue>();
  /** Messages for 'app' sent before the first workers are forked; each initial worker gets all. */
  #backlog: Queue | null = [];
  /** 'random' messages sent while no worker was ready; the first ready worker gets them. */
  readonly #randomQueue: Queue = [];
  /** What the current agent was sent but has not acknowledged yet, oldest first. */
  #agentOutbox: Array<DeliverMessage | DeliverReplyMessage> = [];
  #agentSeq = 0;

  constructor(options: { maxPending: number; logger: Logger }) {
    this.#maxPending = options.maxPending;
    this.#logger = options.logger;
  }

  /** The pids of the ready agent and ready workers. */
  pids(): { agent: number | null; workers: number[] } {
    const workers: number[] = [];
    for (const w of this.#workers) if (w.state === 'ready') workers.push(w.pid);
    return { agent: this.#agent?.state === 'ready' ? this.#agent.pid : null, workers };
  }

  /** A new agent was forked; it gets what waited for the agent once it is ready. */
  setAgent(agent: ChildHandle): void {
    this.#agent = agent;
    this.#agentSeq = 0;
  }

  /**
   * The agent is gone. What it was sent but never acknowledged may not have been read: it goes back,
   * in order and ahead of anything newer, to wait for the next agent.
   */
  agentExited(agent: ChildHandle): void {
    if (this.#agent !== agent) return;
    this.#agent = null;
    const unacked = this.#agentOutbox.map(({ seq: _seq, ...message }) => message as MasterMessage);
    this.#agentOutbox = [];
    if (unacked.length > 0) {
      this.#logger.warn('the agent %d exited with %d messages unacknowledged; they will go to the next agent', agent.pid, unacked.length);
      this.#agentQueue.unshift(...unacked);
    }
  }

  /** The agent has received and dispatched everything up to `seq`. */
  ack(sender: ChildHandle, seq: number): void {
    if (sender !== this.#agent) return;
    let drop = 0;
    while (drop < this.#agentOutbox.length && this.#agentOutbox[drop]!.seq! <= seq) drop++;
    if (drop > 0) this.#agentOutbox.splice(0, drop);
  }

  /** Registers a forked worker. Before the first workers exist, it inherits the 'app' backlog. */
  addWorker(worker: ChildHandle): void {
    this.#workers.add(worker);
    this.#workerQueues.set(worker, this.#backlog ? [...this.#backlog] : []);
  }

  /** Called once the initial workers are forked: later 'app' messages queue per worker. */
  closeBacklog(): void {
    this.#backlog = null;
  }

  removeWorker(worker: ChildHandle): void {
    this.#workers.delete(worker);
    const queue = this.#workerQueues.get(worker);
    this.#workerQueues.delete(worker);
    if (queue && queue.length > 0) {
      this.#logger.warn('worker %d exited with %d undelivered messages', worker.pid, queue.length);
    }
  }

  /** A child became ready: tell everyone the new pids, then flush what waited for it. */
  markReady(handle: ChildHandle): void {
    handle.state = 'ready';
    this.broadcastPids();
    if (handle.role === 'agent') {
      for (const message of this.#agentQueue.splice(0)) this.#sendAgent(message as DeliverMessage | DeliverReplyMessage);
    } else {
      this.#flush(handle, this.#workerQueues.get(handle)?.splice(0) ?? []);
      this.#flush(handle, this.#randomQueue.splice(0));
    }
  }

  broadcastPids(): void {
    const message: PidsMessage = { clutch: 'pids', ...this.pids() };
    if (this.#agent?.state === 'ready') this.#agent.send(message);
    for (const w of this.#workers) if (w.state === 'ready') w.send(message);
  }

  /** Sends to every ready process (agent and workers). */
  broadcast(message: MasterMessage): void {
    if (this.#agent?.state === 'ready') this.#agent.send(message);
    for (const w of this.#workers) if (w.state === 'ready') w.send(message);
  }

  /** Routes a message a child sent. */
  route(sender: ChildHandle, msg: SendMessage): void {
    const out: DeliverMessage = { clutch: 'deliver', action: msg.action, data: msg.data, from: sender.role, pid: sender.pid };
    if (msg.rid !== undefined) out.rid = msg.rid;
    const to = msg.to;
    if (to === 'agent') {
      this.#toAgent(sender, out);
    } else if (to === 'app') {
      this.#toWorkers(sender, out);
    } else if (to === 'all') {
      this.#toAgent(sender, out);
      this.#toWorkers(sender, out);
    } else if (to === 'random') {
      this.#toRandom(sender, out);
    } else {
      this.#toPid(sender, to, out);
    }
  }

  /** Routes the answer to a request back to the process that asked. */
  reply(sender: ChildHandle, msg: ReplyMessage): void {
    const target = this.#find(msg.to);
    const out: DeliverReplyMessage = { clutch: 'reply', rid: msg.rid, data: msg.data, from: sender.role, pid: sender.pid };
    if (msg.error) out.error = msg.error;
    if (!target) {
      this.#logger.debug('reply %d from %d for gone process %d dropped', msg.rid, sender.pid, msg.to);
    } else if (target.role === 'agent') {
      if (target.state === 'ready') this.#sendAgent(out);
      else this.#agentQueue.push(out);
    } else {
      target.send(out);
    }
  }

  /** Sends to the ready agent, keeping the message until the agent acknowledges it. */
  #sendAgent(message: DeliverMessage | DeliverReplyMessage): void {
    const numbered = { ...message, seq: ++this.#agentSeq };
    this.#agentOutbox.push(numbered);
    this.#agent!.send(numbered);
  }

  #find(pid: number): ChildHandle | undefined {
    if (this.#agent?.pid === pid && this.#agent.state !== 'dead') return this.#agent;
    for (const w of this.#workers) if (w.pid === pid) return w;
    return undefined;
  }

  #toAgent(sender: ChildHandle, out: DeliverMessage): void {
    if (this.#agent?.state === 'ready') this.#sendAgent(out);
    else this.#enqueue(sender, this.#agentQueue, out, 'the agent');
  }

  #toWorkers(sender: ChildHandle, out: DeliverMessage): void {
    if (this.#backlog) this.#enqueue(sender, this.#backlog, out, 'the workers');
    for (const w of this.#workers) this.#toWorker(sender, w, out);
  }

  #toWorker(sender: ChildHandle, worker: ChildHandle, out: DeliverMessage): void {
    if (worker.state === 'ready' || worker.state === 'stopping') {
      worker.send(out);
      return;
    }
    const queue = this.#workerQueues.get(worker);
    if (queue) this.#enqueue(sender, queue, out, `worker ${worker.pid}`);
  }

  #toRandom(sender: ChildHandle, out: DeliverMessage): void {
    const ready = [...this.#workers].filter((w) => w.state === 'ready');
    const pick = ready[Math.floor(Math.random() * ready.length)];
    if (pick) pick.send(out);
    else this.#enqueue(sender, this.#randomQueue, out, 'a worker');
  }

  #toPid(sender: ChildHandle, pid: number, out: DeliverMessage): void {
    const target = this.#find(pid);
    if (!target) {
      this.#undeliverable(sender, out, { name: 'ClutchError', code: ClusterErrorCode.UNKNOWN_TARGET, message: `No process of this cluster has pid ${pid} (message "${out.action}")` });
    } else if (target.role === 'agent') {
      this.#toAgent(sender, out);
    } else {
      this.#toWorker(sender, target, out);
    }
  }

  #enqueue(sender: ChildHandle, queue: Queue, out: DeliverMessage, what: string): void {
    if (queue.length >= this.#maxPending) {
      this.#undeliverable(sender, out, {
        name: 'ClutchError',
        code: ClusterErrorCode.QUEUE_FULL,
        message: `${this.#maxPending} messages already wait for ${what}; "${out.action}" was not queued`,
      });
      return;
    }
    queue.push(out);
  }

  #flush(handle: ChildHandle, queue: Queue): void {
    for (const message of queue) handle.send(message);
  }

  #undeliverable(sender: ChildHandle, out: DeliverMessage, error: SerializedError): void {
    this.#logger.warn('undeliverable message "%s" from %s %d: %s (%s)', out.action, sender.role, sender.pid, error.message, error.code);
    sender.send({ clutch: 'undeliverable', action: out.action, ...(out.rid !== undefined ? { rid: out.rid } : {}), error });
  }
}
