import type { ChildHandle } from './child-handle.js';
import type { MessageTarget } from './protocol.js';

/** The bytes of one message, held by the master wherever a copy of it waits or is being written. */
export interface Credit {
  readonly sender: ChildHandle;
  /** The target as the sender named it: the sender keeps its budget per target. */
  readonly to: MessageTarget;
  readonly bytes: number;
  /** Copies of the message the master still holds (queued, unacknowledged, or being written). */
  refs: number;
}

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
  readonly #owed = new Map<ChildHandle, Map<MessageTarget, number>>();
  readonly #owedBytes = new Map<ChildHandle, number>();
  #timer: NodeJS.Timeout | null = null;
  #soon = false;

  /** A credit for a message from `sender` to `to` whose payload is `payload` (none for an empty one). */
  open(sender: ChildHandle, to: MessageTarget, payload: string | undefined): Credit | undefined {
    return payload ? { sender, to, bytes: payload.length, refs: 0 } : undefined;
  }

  hold(credit: Credit | undefined): void {
    if (credit) credit.refs++;
  }

  release(credit: Credit | undefined): void {
    if (credit && --credit.refs === 0) this.#owe(credit);
  }

  /** After routing: a message the master kept no copy of (refused, or sent nowhere) is given back at once. */
  settle(credit: Credit | undefined): void {
    if (credit && credit.refs === 0) this.#owe(credit);
  }

  /**
   * What is owed to `handle`, taken to ride on a message the master sends it anyway (a delivery, a
   * reply): in a request/reply exchange no credit needs a message of its own.
   */
  take(handle: ChildHandle): Array<[MessageTarget, number]> | undefined {
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
