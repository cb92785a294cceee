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

/**
 * The master's side of the messenger's byte budgets. A sender counts the bytes it sends to each
 * target and refuses a send past its budget, at the send; the master gives the bytes back once
 * every copy of the message has left it. So what any process sends — to an agent that is paused, to
 * workers not yet ready — waits in the master only up to each sender's budget.
 */
export class CreditLedger {
  readonly #owed = new Map<ChildHandle, Map<MessageTarget, number>>();
  #scheduled = false;

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

  /** Gives back, in one message per sender and turn, what left the master. */
  #owe(credit: Credit): void {
    let owed = this.#owed.get(credit.sender);
    if (!owed) this.#owed.set(credit.sender, (owed = new Map()));
    owed.set(credit.to, (owed.get(credit.to) ?? 0) + credit.bytes);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#scheduled = false;
    for (const [sender, owed] of this.#owed) {
      if (sender.state !== 'dead') sender.send({ clutch: 'credit', credits: [...owed] });
    }
    this.#owed.clear();
  }
}
