import type { Peer } from './child-handle.js';
import type { MessageTarget } from './protocol.js';

/** The bytes of one message, held by the master wherever a copy of it waits or is being written. */
export interface Credit {
  readonly sender: Peer;
  /** The target as the sender named it: the sender keeps its budget per target. */
  readonly to: MessageTarget;
  readonly bytes: number;
  /** Copies of the message the master still holds (queued, unacknowledged, or being written). */
  refs: number;
}

/**
 * What every process's messages together may hold in the master, bytes. Each sender's budget bounds
 * one sender and target; this bounds them all (senders × targets × budget could be gigabytes). A
 * message past it is refused by the master (QUEUE_FULL, to the sender).
 */
export const MAX_HELD_BYTES = 256 * 1024 * 1024;

/** Owed bytes the master lets wait for a message to ride on, before it sends a credit message of its own. */
const LAZY_BYTES = 1024 * 1024;
/** How long owed bytes wait for a message to ride on, ms (a budget is 32 MB: a little lag costs nothing). */
const LAZY_MS = 20;

/**
 * The master's side of the messenger's byte budgets. A sender counts the bytes it sends to each
 * target and refuses a send past its budget, at the send; the master gives the bytes back once
 * every copy of the message has left it. So what any process sends — to an agent that is paused, to
 * workers not yet ready — waits in the master only up to each sender's budget.
 */
export class CreditLedger {
  readonly #owed = new Map<Peer, Map<MessageTarget, number>>();
  /** Per process, the writes to it whose completion would release a credit. Node never completes the ones queued when a process dies. */
  readonly #writing = new Map<Peer, Set<Credit>>();
  #held = 0;
  readonly #owedBytes = new Map<Peer, number>();
  #timer: NodeJS.Timeout | null = null;
  #soon = false;

  /** Bytes the master holds now, over every message. */
  get held(): number {
    return this.#held;
  }

  /**
   * A credit for a message of `bytes` from `sender` to `to` (none for an empty one). It starts with
   * one reference, the routing's own: `settle()` drops it once the copies are placed, so a copy that
   * leaves at once cannot give the bytes back before the others are counted.
   */
  open(sender: Peer, to: MessageTarget, bytes: number): Credit | undefined {
    if (bytes <= 0) return undefined;
    this.#held += bytes;
    return { sender, to, bytes, refs: 1 };
  }

  hold(credit: Credit | undefined): void {
    if (credit) credit.refs++;
  }

  release(credit: Credit | undefined): void {
    if (credit && --credit.refs === 0) {
      this.#held -= credit.bytes;
      this.#owe(credit);
    }
  }

  /** After routing: drops the routing's own reference. */
  settle(credit: Credit | undefined): void {
    this.release(credit);
  }

  /** Holds `credit` while a write to `target` is under way; `written()` (or `targetGone`) releases it. */
  writing(target: Peer, credit: Credit): () => void {
    this.hold(credit);
    let set = this.#writing.get(target);
    if (!set) this.#writing.set(target, (set = new Set()));
    const writes = set;
    // A Set of credits: one message may be written twice to one target only in a replay, which
    // never happens while the first write is pending (the agent that would receive it is gone).
    writes.add(credit);
    return () => {
      if (writes.delete(credit)) this.release(credit);
    };
  }

  /** The process is gone: its pending writes will never complete, and their bytes come back now. */
  targetGone(target: Peer): void {
    const writes = this.#writing.get(target);
    this.#writing.delete(target);
    for (const credit of writes ?? []) this.release(credit);
  }

  /**
   * What is owed to `handle`, taken to ride on a message the master sends it anyway (a delivery, a
   * reply): in a request/reply exchange no credit needs a message of its own.
   */
  take(handle: Peer): Array<[MessageTarget, number]> | undefined {
    const owed = this.#owed.get(handle);
    if (!owed) return undefined;
    this.#owed.delete(handle);
    this.#owedBytes.delete(handle);
    return [...owed];
  }

  /**
   * Owes the bytes to their sender. They ride on the next message to it; a credit message of its
   * own goes after LAZY_MS, or at once past LAZY_BYTES, so a sender near its budget is never kept waiting long.
   */
  #owe(credit: Credit): void {
    let owed = this.#owed.get(credit.sender);
    if (!owed) this.#owed.set(credit.sender, (owed = new Map()));
    owed.set(credit.to, (owed.get(credit.to) ?? 0) + credit.bytes);
    const total = (this.#owedBytes.get(credit.sender) ?? 0) + credit.bytes;
    this.#owedBytes.set(credit.sender, total);
    if (total >= LAZY_BYTES && !this.#soon) {
      this.#soon = true;
      setImmediate(() => this.#flush());
    }
    this.#timer ??= setTimeout(() => this.#flush(), LAZY_MS).unref();
  }

  #flush(): void {
    this.#soon = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    for (const sender of [...this.#owed.keys()]) {
      const credits = this.take(sender)!;
      if (sender.state !== 'dead') sender.send({ clutch: 'credit', credits });
    }
  }
}
