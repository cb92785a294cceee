import type { Application } from '@clutch/core';
import type { Rates } from './types.ts';

/** The latest rates in this worker: kept current by the agent's pushes, no request per price. */
export const latest: { rates: Rates | null } = { rates: null };

export default class RatesApp {
  readonly app: Application;

  constructor(app: Application) {
    this.app = app;
  }

  didLoad() {
    this.app.messenger.on('rates:update', (rates) => {
      latest.rates = rates;
    });
  }
}
