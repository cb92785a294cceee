/** Exchange rates against the base currency, as the agent last fetched them. */
export interface Rates {
  base: string;
  at: string;
  version: number;
  rates: Record<string, number>;
}

declare module '@clutch/core' {
  interface AppConfig {
    rates: { base: string; refreshInterval: number };
  }
  interface MessengerActions {
    'rates:update': Rates;
  }
  interface MessengerRequests {
    'rates:get': { data: null; reply: Rates };
    'rates:stats': { data: null; reply: { fetches: number; version: number; subscribers: number } };
  }
}
