import type { Agent } from '@clutch/core';
import type { Rates } from './types.ts';

/**
 * The singleton job: one upstream feed for the whole cluster, however many workers there are.
 * (The feed is simulated: a random walk, so the example runs offline.) The agent pushes each new
 * set of rates to every worker and answers workers that ask.
 */
export default class RatesAgent {
  readonly agent: Agent;
  #rates: Rates = { base: 'EUR', at: new Date(0).toISOString(), version: 0, rates: { USD: 1.08, GBP: 0.85, JPY: 162.4 } };
  #fetches = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(agent: Agent) {
    this.agent = agent;
  }

  async didLoad() {
    const { messenger } = this.agent;
    messenger.handle('rates:get', () => this.#rates);
    messenger.handle('rates:stats', () => ({ fetches: this.#fetches, version: this.#rates.version, subscribers: messenger.pids.workers.length }));
    this.#fetch();
    // Sent before any worker exists: the master delivers it to each worker once it is ready.
    messenger.sendToApp('rates:update', this.#rates);
  }

  async didReady() {
    this.#timer = setInterval(() => {
      this.#fetch();
      this.agent.messenger.sendToApp('rates:update', this.#rates);
    }, this.agent.config.rates.refreshInterval);
  }

  async beforeClose() {
    clearInterval(this.#timer);
  }

  #fetch(): void {
    this.#fetches++;
    const drift = (r: number) => Math.round(r * (1 + (Math.random() - 0.5) / 100) * 10_000) / 10_000;
    this.#rates = {
      base: this.agent.config.rates.base,
      at: new Date().toISOString(),
      version: this.#rates.version + 1,
      rates: Object.fromEntries(Object.entries(this.#rates.rates).map(([c, r]) => [c, drift(r)])),
    };
  }
}
