import type { LeaseStore } from './lease-store.js';

/**
 * One host, no server: this cluster always leads. The token is the time of the election, so it
 * grows across the agent's replacements on this host and is never reused.
 */
export class LocalStore implements LeaseStore {
  readonly kind = 'local';
  #token = 0;
  readonly #claimed = new Set<string>();

  async acquire(): Promise<{ acquired: boolean; token: number }> {
    this.#token ||= Date.now();
    return { acquired: true, token: this.#token };
  }

  async release(): Promise<void> {}

  async claimTick(_name: string, _holder: string, _token: number, schedule: string, tick: number): Promise<boolean> {
    const key = `${schedule}\0${tick}`;
    if (this.#claimed.has(key)) return false;
    this.#claimed.add(key);
    // Old ticks are forgotten: they can never come again.
    if (this.#claimed.size > 10_000) for (const k of [...this.#claimed].slice(0, 5_000)) this.#claimed.delete(k);
    return true;
  }

  async close(): Promise<void> {}
}
