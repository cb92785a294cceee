import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createApp, startCluster, type MockApp, type RunningCluster } from '@clutch/mock';

const dir = fileURLToPath(new URL('..', import.meta.url));

describe('hello, in one process', () => {
  let mock: MockApp;
  before(async () => {
    mock = await createApp(dir);
  });
  after(() => mock.close());

  it('greets', async () => {
    const res = await mock.request().get('/').expect(200);
    assert.equal(res.body.message, 'Hello from hello');
    assert.equal(res.body.env, 'unittest');
  });

  it('has the agent count every request', async () => {
    await mock.request().get('/').expect(200);
    const res = await mock.request().get('/stats').expect(200);
    assert.ok(res.body.hits >= 2, `${res.body.hits} hits`);
  });
});

describe('hello, as a real cluster', { timeout: 30_000 }, () => {
  let cluster: RunningCluster;
  before(async () => {
    cluster = await startCluster(dir, { workers: 2 });
  });
  after(() => cluster.stop());

  it('serves from two workers and stops cleanly', async () => {
    assert.equal(cluster.info.workers.length, 2);
    const res = await cluster.request().get('/').expect(200);
    assert.ok(cluster.info.workers.includes(res.body.worker));
    assert.equal(await cluster.stop(), 0);
  });
});
