import { takesMessages, type Peer } from './child-handle.js';
import { CreditLedger, MAX_HELD_BYTES, type Credit } from './credits.js';
import { ClusterErrorCode, codedError, type SerializedError } from './errors.js';
import type { Logger } from './logger.js';
import type { DeliverMessage, DeliverReplyMessage, MasterMessage, PidsMessage, ReplyMessage, SendMessage, SenderRole } from './protocol.js';
import { AgentOutbox, merge, payloadBytes, queuedBytes, type Queued } from './relay-queue.js';
import { RepeatFilter } from './repeat-filter.js';

/** A process as the relay sees it (the master's handles; the test kit's in-process sides). */
export type { Peer as RelayPeer } from './child-handle.js';

/** What a worker is called on the wire: 'app', the messenger's name for the workers (docs/messenger.md). */
function wireRole(peer: Peer): SenderRole {
  return peer.role === 'worker' ? 'app' : 'agent';
}

/**
 * The master's routing table for messages between the agent and the workers.
 *
 * Delivery is in order per sender: IPC channels are ordered, the relay handles messages in arrival
 * order, and a message for a process that is not ready waits in a FIFO that is flushed, before
 * anything newer, the moment the process is ready. Waiting is bounded by `maxPending` per queue;
 * overflow goes back to the sender as an error. What the agent is sent is kept until it acknowledges
 * it, so a message in flight when the agent dies goes to the next agent instead of being lost.
 */
export class Relay {
  readonly #maxPending: number;
  readonly #logger: Logger;
  #agent: Peer | null = null;
  readonly #workers = new Set<Peer>();
  #arrivals = 0;
  /** Messages for the agent while no agent is ready (at start, or while one is replaced). */
  #agentQueue: Queued[] = [];
  /** Per worker not ready yet: what it gets once ready. */
  readonly #workerQueues = new Map<Peer, Queued[]>();
  /** Messages for 'app' sent before the first workers are forked; each initial worker gets all. */
  #backlog: Queued[] | null = [];
  /** 'random' messages sent while no worker was ready; the first ready worker gets them. */
  #randomQueue: Queued[] = [];
  /** What the current agent was sent but has not acknowledged yet. */
  readonly #agentOutbox = new AgentOutbox();
  /** Requests delivered to each process and not answered yet, keyed "<sender pid>:<rid>". */
  readonly #inflight = new Map<Peer, Map<string, DeliverMessage>>();
  readonly #credits = new CreditLedger();
  /** One line per kind of refusal and burst, not one per refused message. */
  readonly #refusals = new RepeatFilter({ windowMs: 10_000, perKey: 1 });
  #refused = 0;

  constructor(options: { maxPending: number; logger: Logger }) {
    this.#maxPending = options.maxPending;
    this.#logger = options.logger;
  }

  /** The pids of the ready agent and ready workers. */
  pids(): { agent: number | null; workers: number[] } {
    const workers: number[] = [];
    for (const w of this.#workers) if (takesMessages(w.state)) workers.push(w.pid);
    return { agent: this.#agent !== null && takesMessages(this.#agent.state) ? this.#agent.pid : null, workers };
  }

  /** A new agent was forked; it gets what waited for the agent once it is ready. */
  setAgent(agent: Peer): void {
    this.#agent = agent;
    this.#agentOutbox.reset();
  }

  /**
   * The agent is gone. What it was sent but never acknowledged may not have been read: it goes back,
   * in order and ahead of anything newer, to wait for the next agent. Replies go nowhere (they
   * answered the dead agent's requests). A message that a previous agent also died holding is
   * dropped and reported to its sender: replaying it again could kill every replacement in turn.
   */
  agentExited(agent: Peer): void {
    this.#credits.targetGone(agent);
    if (this.#agent !== agent) return;
    this.#agent = null;
    const replay: Queued[] = [];
    for (const queued of this.#agentOutbox.takeAll()) {
      if (queued.replayed) {
        this.#logger.error(
          'message "%s" from %s %d was unacknowledged by two agents that died in a row; dropped',
          queued.message.action,
          queued.message.from,
          queued.message.pid,
        );
        this.#refused++;
        this.#notifySender(
          queued.message,
          codedError(ClusterErrorCode.DROPPED, `Two agents in a row died while handling "${queued.message.action}"; it was dropped`),
        );
        this.#credits.release(queued.credit);
      } else {
        replay.push({ ...queued, replayed: true });
      }
    }
    this.#failInflight(agent, new Set(replay.map((q) => `${q.message.pid}:${q.message.rid}`)));
    if (replay.length > 0) {
      this.#logger.warn('the agent %d exited with %d messages unacknowledged; they go to the next agent', agent.pid, replay.length);
      this.#agentQueue = replay.concat(this.#agentQueue);
    }
  }

  /** The agent has received and dispatched everything up to `seq`. */
  ack(sender: Peer, seq: number): void {
    if (sender !== this.#agent) return;
    for (const queued of this.#agentOutbox.ack(seq)) this.#credits.release(queued.credit);
  }

  /** Registers a forked worker. Before the first workers exist, it inherits the 'app' backlog. */
  addWorker(worker: Peer): void {
    this.#workers.add(worker);
    const inherited = this.#backlog ? [...this.#backlog] : [];
    for (const q of inherited) this.#credits.hold(q.credit);
    this.#workerQueues.set(worker, inherited);
  }

  /** Called once the initial workers are forked: later 'app' messages queue per worker. */
  closeBacklog(): void {
    for (const q of this.#backlog ?? []) this.#credits.release(q.credit);
    this.#backlog = null;
  }

  removeWorker(worker: Peer): void {
    this.#workers.delete(worker);
    this.#credits.targetGone(worker);
    this.#failInflight(worker, new Set());
    const queue = this.#workerQueues.get(worker);
    this.#workerQueues.delete(worker);
    if (queue && queue.length > 0) {
      this.#logger.warn('worker %d exited with %d messages it never received', worker.pid, queue.length);
      for (const q of queue) this.#credits.release(q.credit);
    }
  }

  /** A child became ready: tell everyone the new pids, then flush what waited for it. */
  markReady(handle: Peer): void {
    this.broadcastPids();
    if (handle.role === 'agent') {
      const queue = this.#agentQueue;
      this.#agentQueue = [];
      for (const queued of queue) {
        this.#sendAgent(queued);
        this.#credits.release(queued.credit);
      }
    } else {
      const queue = merge(this.#workerQueues.get(handle) ?? [], this.#randomQueue);
      this.#workerQueues.set(handle, []);
      this.#randomQueue = [];
      for (const q of queue) {
        this.#deliver(handle, q.message, q.credit);
        this.#credits.release(q.credit);
      }
    }
  }

  broadcastPids(): void {
    const message: PidsMessage = { clutch: 'pids', ...this.pids() };
    this.broadcast(message);
  }

  /** Sends to every ready process (agent and workers). */
  broadcast(message: MasterMessage): void {
    if (this.#agent !== null && takesMessages(this.#agent.state)) this.#agent.send(message);
    for (const w of this.#workers) if (takesMessages(w.state)) w.send(message);
  }

  /** Routes a message a child sent. */
  route(sender: Peer, msg: SendMessage): void {
    const out: DeliverMessage = { clutch: 'deliver', action: msg.action, from: wireRole(sender), pid: sender.pid };
    if (msg.payload !== undefined) out.payload = msg.payload;
    if (msg.rid !== undefined) out.rid = msg.rid;
    if (msg.trace !== undefined) out.trace = msg.trace;
    const credit = this.#credits.open(sender, msg.to, payloadBytes(msg));
    const queued: Queued = { n: ++this.#arrivals, message: out, credit };
    const to = msg.to;
    if (credit && this.#credits.held > MAX_HELD_BYTES) {
      // Every sender within its budget, and yet too much in all: the master protects itself.
      this.#full(queued, 'the master (all messages together)');
    } else if (to === 'agent') {
      this.#toAgent(queued);
    } else if (to === 'app') {
      this.#toWorkers(queued);
    } else if (to === 'all') {
      this.#toAgent(queued);
      this.#toWorkers(queued);
    } else if (to === 'random') {
      this.#toRandom(queued);
    } else {
      this.#toPid(to, queued);
    }
    this.#credits.settle(queued.credit);
  }

  /** Routes the answer to a request back to the process that asked — to it alone, even while it boots. */
  reply(sender: Peer, msg: ReplyMessage): void {
    this.#inflight.get(sender)?.delete(`${msg.to}:${msg.rid}`);
    const target = this.#find(msg.to);
    const out: DeliverReplyMessage = { clutch: 'reply', rid: msg.rid, from: wireRole(sender), pid: sender.pid };
    if (msg.payload !== undefined) out.payload = msg.payload;
    if (msg.error) out.error = msg.error;
    // A reply counts against the replier's budget for the asker until it is written.
    const credit = this.#credits.open(sender, msg.to, payloadBytes(msg));
    if (target) this.#deliver(target, out, credit);
    else this.#logger.debug('reply %d from %d for gone process %d dropped', msg.rid, sender.pid, msg.to);
    this.#credits.settle(credit);
  }

  /**
   * Sends a delivery, remembering a request until it is answered. The message's bytes are held
   * until the channel has taken it: a process that does not read (paused, stuck) stops its senders
   * at their budget instead of growing the master.
   */
  #deliver(handle: Peer, message: DeliverMessage | DeliverReplyMessage, credit?: Credit): void {
    if (message.clutch === 'deliver' && message.rid !== undefined) {
      let pending = this.#inflight.get(handle);
      if (!pending) this.#inflight.set(handle, (pending = new Map()));
      pending.set(`${message.pid}:${message.rid}`, message);
    }
    // What this process is owed rides along (a copy: a queued message may be delivered again after a replay).
    const owed = this.#credits.take(handle);
    const out = owed ? { ...message, credits: owed } : message;
    if (!credit) {
      handle.send(out);
      return;
    }
    const written = this.#credits.writing(handle, credit);
    if (!handle.send(out, written)) written();
  }

  /**
   * A process died with requests it had not answered: each asker's promise rejects now rather than
   * at its timeout. Requests being replayed to the next agent (`keep`) are not failed.
   */
  #failInflight(handle: Peer, keep: Set<string>): void {
    const pending = this.#inflight.get(handle);
    this.#inflight.delete(handle);
    if (!pending) return;
    const who = handle.role;
    for (const [key, message] of pending) {
      if (keep.has(key)) continue;
      this.#notifySender(message, codedError(ClusterErrorCode.TARGET_EXITED, `The ${who} ${handle.pid} exited before answering "${message.action}"`));
    }
  }

  #find(pid: number): Peer | undefined {
    if (this.#agent?.pid === pid) return this.#agent;
    for (const w of this.#workers) if (w.pid === pid) return w;
    return undefined;
  }

  /** Sends to the ready agent, keeping the message (and its bytes) until the agent acknowledges it. */
  #sendAgent(queued: Queued): void {
    this.#credits.hold(queued.credit);
    const seq = this.#agentOutbox.add(queued);
    this.#deliver(this.#agent!, { ...queued.message, seq });
  }

  #toAgent(queued: Queued): void {
    if (this.#agent !== null && takesMessages(this.#agent.state)) {
      // Unacknowledged messages are waiting too: a stalled agent cannot grow the master without bound.
      if (this.#agentOutbox.size >= this.#maxPending) this.#full(queued, 'the agent (unacknowledged)');
      else this.#sendAgent(queued);
    } else {
      this.#enqueue(this.#agentQueue, queued, 'the agent');
    }
  }

  #toWorkers(queued: Queued): void {
    if (this.#backlog) this.#enqueue(this.#backlog, queued, 'the workers');
    for (const w of this.#workers) this.#toWorker(w, queued);
  }

  #toWorker(worker: Peer, queued: Queued): void {
    if (takesMessages(worker.state) || worker.state === 'stopping') {
      this.#deliver(worker, queued.message, queued.credit);
      return;
    }
    const queue = this.#workerQueues.get(worker);
    if (queue) this.#enqueue(queue, queued, `worker ${worker.pid}`);
  }

  #toRandom(queued: Queued): void {
    const ready: Peer[] = [];
    for (const w of this.#workers) if (takesMessages(w.state)) ready.push(w);
    const pick = ready[Math.floor(Math.random() * ready.length)];
    if (pick) this.#deliver(pick, queued.message, queued.credit);
    else this.#enqueue(this.#randomQueue, queued, 'a worker');
  }

  #toPid(pid: number, queued: Queued): void {
    const target = this.#find(pid);
    if (!target || target.state === 'dead') {
      const { action } = queued.message;
      this.#undeliverable(queued.message, codedError(ClusterErrorCode.UNKNOWN_TARGET, `No process of this cluster has pid ${pid} (message "${action}")`));
    } else if (target.role === 'agent') {
      this.#toAgent(queued);
    } else {
      this.#toWorker(target, queued);
    }
  }

  #enqueue(queue: Queued[], queued: Queued, what: string): void {
    if (queue.length >= this.#maxPending) {
      this.#full(queued, what);
      return;
    }
    this.#credits.hold(queued.credit);
    queue.push(queued);
  }

  #full(queued: Queued, what: string): void {
    this.#undeliverable(
      queued.message,
      codedError(ClusterErrorCode.QUEUE_FULL, `${this.#maxPending} messages already wait for ${what}; "${queued.message.action}" was not queued`),
    );
  }

  /** For /metrics: messages waiting in the master now, and how many it refused so far. */
  stats(): { queued: number; refused: number; bytes: Array<{ target: string; bytes: number }> } {
    let queued = this.#agentQueue.length + this.#agentOutbox.size + this.#randomQueue.length + (this.#backlog?.length ?? 0);
    for (const queue of this.#workerQueues.values()) queued += queue.length;
    // Bytes held per target: the agent (queued and unacknowledged), each worker not ready yet, and any worker.
    const bytes = [{ target: 'agent', bytes: queuedBytes(this.#agentQueue) + this.#agentOutbox.bytes }];
    for (const [peer, queue] of this.#workerQueues) if (queue.length > 0) bytes.push({ target: `worker ${peer.pid}`, bytes: queuedBytes(queue) });
    bytes.push({ target: 'any worker', bytes: queuedBytes(this.#randomQueue) + queuedBytes(this.#backlog ?? []) });
    return { queued, refused: this.#refused, bytes };
  }

  #undeliverable(message: DeliverMessage, error: SerializedError): void {
    this.#refused++;
    const key = `${error.code}:${message.pid}`;
    const report = (n: number, ms: number) =>
      this.#logger.warn('[%s] %d more messages from %s %d were refused in %ds', error.code, n, message.from, message.pid, ms / 1000);
    if (this.#refusals.admit(key, report)) {
      this.#logger.warn('undeliverable message "%s" from %s %d: %s (%s)', message.action, message.from, message.pid, error.message, error.code);
    }
    this.#notifySender(message, error);
  }

  /** Tells the sender (if it is still here) that its message went nowhere; a request rejects. */
  #notifySender(message: DeliverMessage, error: SerializedError): void {
    const sender = this.#find(message.pid);
    sender?.send({ clutch: 'undeliverable', action: message.action, ...(message.rid !== undefined ? { rid: message.rid } : {}), error });
  }
}
