import { Service } from '@clutch/core';
import { latest } from '../../app.ts';
import type { Rates } from '../../types.ts';

export default class RatesService extends Service {
  /** The worker's copy, or — before the first push arrived — the agent's. */
  async current(): Promise<Rates> {
    return latest.rates ?? this.app.messenger.request('agent', 'rates:get', null);
  }

  async convert(amount: number, to: string): Promise<{ amount: number; from: string; to: string; result: number; version: number }> {
    const rates = await this.current();
    const rate = Object.hasOwn(rates.rates, to) ? rates.rates[to] : undefined;
    if (rate === undefined) this.ctx.throw(400, `Unknown currency ${to}; known: ${Object.keys(rates.rates).join(', ')}`);
    return { amount, from: rates.base, to, result: Math.round(amount * rate * 100) / 100, version: rates.version };
  }
}

declare module '@clutch/core' {
  interface ServiceTree {
    rates: RatesService;
  }
}
