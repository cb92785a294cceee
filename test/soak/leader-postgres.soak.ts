import { after, before, describe, it } from 'node:test';
import type { AppProcess } from '../helpers/cluster.ts';
import { leaderScenarios } from '../helpers/leader-scenarios.ts';
import { startPostgres, type StoreServer } from '../helpers/stores.ts';

describe('one leader among three clusters on a real Postgres', { timeout: 120_000 }, () => {
  let store: StoreServer;
  const started: AppProcess[] = [];
  before(async () => {
    store = await startPostgres();
  });
  after(async () => {
    for (const app of started) app.kill();
    await store?.stop();
  });

  it('steady state, graceful handover, SIGKILL, SIGSTOP past the ttl, a partition, the store down and back: no tick twice, tokens only grow', async () => {
    await leaderScenarios('postgres', store, started);
  });
});
