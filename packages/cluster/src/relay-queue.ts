import type { Credit } from './credits.js';
import type { DeliverMessage, ReplyMessage, SendMessage } from './protocol.js';

/** A message waiting for a process that is not ready, numbered in order of arrival at the master. */
export interface Queued {
  n: number;
  message: DeliverMessage;
  /** Its bytes, given back to the sender once no copy is left in the master. */
  credit: Credit | undefined;
  /** Set once a dead agent held it unacknowledged: a second such death drops it (see agentExited). */
  replayed?: boolean;
}

/** What a message's payload counts against the budgets: the byte size its sender declared, else its length. */
export function payloadBytes(msg: SendMessage | ReplyMessage): number {
  if (msg.payload === undefined) return 0;
  return Number.isSafeInteger(msg.size) && msg.size! >= 0 ? msg.size! : msg.payload.length;
}

/** The payload bytes of queued messages (JSON text, as they will be written to the target). */
export function queuedBytes(queue: readonly Queued[]): number {
  let n = 0;
  for (const q of queue) n += q.message.payload?.length ?? 0;
  return n;
}

/** Merges two queues, each in arrival order, into one in arrival order. */
export function merge(a: Queued[], b: Queued[]): Queued[] {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out: Queued[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) out.push(a[i]!.n < b[j]!.n ? a[i++]! : b[j++]!);
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}

/**
 * What the current agent was sent and has not acknowledged yet, oldest first, numbered per agent:
 * the agent acknowledges up to a number, and whatever is left when it dies is replayed.
 */
export class AgentOutbox {
  #unacked: Array<{ seq: number; queued: Queued }> = [];
  #seq = 0;

  get size(): number {
    return this.#unacked.length;
  }

  /** The payload bytes held here. */
  get bytes(): number {
    return queuedBytes(this.#unacked.map((u) => u.queued));
  }

  /** A new agent: numbering starts over. */
  reset(): void {
    this.#seq = 0;
  }

  /** Keeps `queued` until acknowledged; returns its number. */
  add(queued: Queued): number {
    const seq = ++this.#seq;
    this.#unacked.push({ seq, queued });
    return seq;
  }

  /** Everything up to `seq` was received: what is no longer kept, in order. */
  ack(seq: number): Queued[] {
    let drop = 0;
    while (drop < this.#unacked.length && this.#unacked[drop]!.seq <= seq) drop++;
    return this.#unacked.splice(0, drop).map((u) => u.queued);
  }

  /** The agent died: what it never acknowledged, in order; the outbox is empty after. */
  takeAll(): Queued[] {
    const all = this.#unacked.map((u) => u.queued);
    this.#unacked = [];
    return all;
  }
}
