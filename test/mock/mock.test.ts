import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AGENT_PID, WORKER_PID, createApp, startCluster, type MockApp } from '@clutch/mock';
import { fixture, isAlive } from '../helpers/cluster.ts';

describe('@clutch/mock createApp: a project in one process', () => {
  let mock: MockApp;
  before(async () => {
    mock = await createApp(fixture('basic'));
  });
  after(() => mock.close());

  it('boots config, controllers and hooks, and serves through supertest', async () => {
    const res = await mock.request().get('/config').expect(200);
    assert.equal(res.body.greeting, 'unittest');
    assert.deepEqual(res.body.nested, { a: 1, b: 2 });
    await mock.request().get('/admin/users/9').expect(200, { id: '9', same: true, app: 'basic-fixture' });
  });

  it('bridges the messenger like the master: early messages held, requests answered, errors coded', async () => {
    const received = await mock.request().get('/messages/received').expect(200);
    assert.deepEqual(
      received.body.received.filter((r: { action: string }) => r.action === 'agent-hello'),
      [{ action: 'agent-hello', data: { sentIn: 'didLoad' }, meta: { from: 'agent', pid: AGENT_PID } }],
    );
    const ask = await mock.request().get(`/messages/ask?other=${WORKER_PID}`).expect(200);
    assert.deepEqual(ask.body.add, { ok: true, value: 42 });
    assert.equal(ask.body.fail.code, 'CLUTCH_ERR_MESSENGER_HANDLER_FAILED');
    assert.equal(ask.body.unknownPid.code, 'CLUTCH_ERR_MESSENGER_UNKNOWN_TARGET');
    const burst = await mock.request().get('/messages/burst?n=2000').expect(200);
    assert.deepEqual(burst.body, { count: 2000, next: 2000, outOfOrder: 0 });
  });
});

describe('@clutch/mock startCluster: a real cluster, cleaned up', { timeout: 30_000 }, () => {
  it('starts with --port 0, answers, and leaves nothing after stop()', async () => {
    const cluster = await startCluster(fixture('reloadable'), { workers: 1 });
    try {
      const res = await cluster.request().get('/').expect(200);
      assert.equal(res.body.version, 'v1');
      assert.equal(await cluster.stop(), 0);
      for (const pid of [cluster.info.pid, cluster.info.agent, ...cluster.info.workers]) assert.ok(!isAlive(pid), `${pid} is gone`);
    } finally {
      cluster.kill();
    }
  });
});
