import type { MessageTarget } from '@clutch/cluster';
import { ClutchError, CoreErrorCode } from './errors.js';

/** The messenger's bounds: `config.messenger.maxMessageBytes` and `maxPendingBytes`. */
export interface MessengerLimits {
  /** The largest message (or reply), measured as the UTF-8 bytes of its JSON text. */
  maxMessageBytes: number;
  /** What this process may have on its way to one target (sent, not yet out of the master). */
  maxPendingBytes: number;
}

export const DEFAULT_LIMITS: MessengerLimits = { maxMessageBytes: 8 * 1024 * 1024, maxPendingBytes: 32 * 1024 * 1024 };

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(bytes < 1024 * 1024 ? 2 : 1)} MB`;
}

/**
 * What this process may send: it refuses, at the send, a message over `maxMessageBytes` or one that
 * would take what this process has on its way to a target past `maxPendingBytes`; otherwise counts
 * it. The master gives the bytes back once the message has left it, so a target that does not read
 * (paused, stuck, replaced) costs its senders their budget, not the master its memory.
 */
export class SendBudget {
  limits: MessengerLimits = DEFAULT_LIMITS;
  /** Bytes sent per target (as named at the send) that the master has not given back yet. */
  readonly #pending = new Map<MessageTarget, number>();

  /** Bytes on their way to `target` (sent, and not yet out of the master). */
  pending(target: MessageTarget): number {
    return this.#pending.get(target) ?? 0;
  }

  /** Counts `payload` against `to`, or throws MESSENGER_TOO_LARGE / MESSENGER_QUEUE_FULL; returns its bytes. */
  reserve(to: MessageTarget, action: string, payload: string | undefined): number {
    if (payload === undefined) return 0;
    // Bytes as they travel (UTF-8): a string's length would count non-ASCII text short by up to 3×.
    const bytes = Buffer.byteLength(payload);
    const { maxMessageBytes, maxPendingBytes } = this.limits;
    if (bytes > maxMessageBytes) {
      throw new ClutchError(
        CoreErrorCode.MESSENGER_TOO_LARGE,
        `Message "${action}" is ${mb(bytes)} as JSON, over messenger.maxMessageBytes (${mb(maxMessageBytes)})`,
      );
    }
    const pending = this.#pending.get(to) ?? 0;
    if (pending + bytes > maxPendingBytes) {
      throw new ClutchError(
        CoreErrorCode.MESSENGER_QUEUE_FULL,
        `Message "${action}" was not sent: ${mb(pending)} already on their way to ${typeof to === 'number' ? `process ${to}` : `"${to}"`}, and messenger.maxPendingBytes is ${mb(maxPendingBytes)} (the target is slow or not ready)`,
      );
    }
    this.#pending.set(to, pending + bytes);
    return bytes;
  }

  /** The master gave `bytes` back: they left it for `to`, or were never sent. */
  giveBack(to: MessageTarget, bytes: number): void {
    if (bytes === 0) return;
    const left = (this.#pending.get(to) ?? 0) - bytes;
    if (left > 0) this.#pending.set(to, left);
    else this.#pending.delete(to);
  }
}
