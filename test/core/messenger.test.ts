import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ClusterReadyInfo } from '@clutch/cluster';
import { startFixture, type AppProcess } from '../helpers/cluster.ts';
import { fromEveryWorker, getJson } from '../helpers/http.ts';

interface Received {
  pid: number;
  received: Array<{ action: string; data: { tag?: string; kind?: string; sentIn?: string }; meta: { from: string; pid: number } }>;
}

/** Asks every worker what it received until `done` holds for all of them (bounded). */
async function receivedUntil(info: ClusterReadyInfo, done: (r: Received) => boolean): Promise<Map<number, Received>> {
  let answers = new Map<number, Received>();
  for (let i = 0; i < 40; i++) {
    answers = await fromEveryWorker<Received>(`${info.url}/messages/received`, info.workers);
    if ([...answers.values()].every(done)) break;
  }
  return answers;
}

describe('messenger across the real cluster', { timeout: 60_000 }, () => {
  let app: AppProcess;
  let info: ClusterReadyInfo;

  before(async () => {
    ({ app, info } = await startFixture('basic', ['--workers', '2']));
  });
  after(() => app?.kill());

  it('delivers a sendToApp from the agent’s didLoad exactly once to each worker, once it is ready', async () => {
    const answers = await fromEveryWorker<Received>(`${info.url}/messages/received`, info.workers);
    assert.equal(answers.size, 2);
    for (const { received } of answers.values()) {
      const hello = received.filter((r) => r.action === 'agent-hello');
      assert.deepEqual(hello, [{ action: 'agent-hello', data: { sentIn: 'didLoad' }, meta: { from: 'agent', pid: info.agent } }]);
    }
  });

  it('keeps order per sender across targets: a sendRandom before a sendToApp arrives first', async () => {
    const answers = await fromEveryWorker<Received>(`${info.url}/messages/received`, info.workers);
    const orders = [...answers.values()].map((r) => r.received.filter((m) => m.action === 'order').map((m) => (m.data as { n: number }).n));
    assert.deepEqual(orders.map((o) => o.join()).sort(), ['1,2', '2'], 'one worker got 1 then 2, the other only 2');
  });

  it('keeps messenger.pids current in every worker (cluster-pids)', async () => {
    const expected = { agent: info.agent, workers: [...info.workers].sort() };
    let answers = new Map<number, { pid: number; pids: { agent: number; workers: number[] } }>();
    for (let i = 0; i < 40; i++) {
      answers = await fromEveryWorker(`${info.url}/messages/pids`, info.workers);
      if ([...answers.values()].every((a) => a.pids.workers.length === 2)) break;
    }
    for (const { pids } of answers.values()) assert.deepEqual({ agent: pids.agent, workers: [...pids.workers].sort() }, expected);
  });

  it('round-trips requests: replies, handler errors, timeouts, missing handlers, pids and random', async () => {
    const [first, second] = info.workers as [number, number];
    // Ask from whichever worker answers; the agent then asks the *other* worker by pid.
    const { body } = await getJson<Record<string, { ok: boolean; value?: unknown; code?: string; message?: string }> & { pid: number }>(
      `${info.url}/messages/ask?other=${first}`,
    );
    assert.deepEqual(body.add, { ok: true, value: 42 });
    assert.deepEqual(body.fail, { ok: false, code: 'CLUTCH_ERR_MESSENGER_HANDLER_FAILED', message: 'the agent says no' });
    assert.equal(body.timeout?.code, 'CLUTCH_ERR_MESSENGER_TIMEOUT');
    assert.equal(body.noHandler?.code, 'CLUTCH_ERR_MESSENGER_NO_HANDLER');
    assert.deepEqual(body.viaAgent, { ok: true, value: first });
    assert.ok(body.random?.ok && [first, second].includes(body.random.value as number), 'random reaches one of the workers');
    assert.equal(body.unknownPid?.code, 'CLUTCH_ERR_MESSENGER_UNKNOWN_TARGET');
  });

  it('delivers a 20,000-message burst from a worker to the agent complete and in order', async () => {
    const { status, body } = await getJson<{ count: number; next: number; outOfOrder: number }>(`${info.url}/messages/burst?n=20000`, { timeoutMs: 30_000 });
    assert.equal(status, 200);
    assert.deepEqual(body, { count: 20_000, next: 20_000, outOfOrder: 0 });
  });

  it('fans out broadcast / sendToApp / sendRandom / sendTo exactly once per receiver', async () => {
    const tag = `t${Date.now()}`;
    const { body: sender } = await getJson<{ pid: number }>(`${info.url}/messages/fanout?tag=${tag}`);
    const fans = (r: Received) => r.received.filter((m) => m.action === 'fan' && m.data.tag === tag);
    const answers = await receivedUntil(info, (r) => fans(r).filter((m) => m.data.kind !== 'random').length >= 2);
    let randoms = 0;
    for (const r of answers.values()) {
      const kinds = fans(r)
        .map((m) => m.data.kind)
        .sort();
      randoms += kinds.filter((k) => k === 'random').length;
      assert.deepEqual(
        kinds.filter((k) => k !== 'random'),
        ['app', 'broadcast'],
        `worker ${r.pid} got each fan-out once`,
      );
      for (const m of fans(r)) assert.deepEqual(m.meta, { from: 'app', pid: sender.pid });
    }
    assert.equal(randoms, 1, 'exactly one worker got the sendRandom');
    let report: Array<{ kind: string; from: string }> = [];
    for (let i = 0; i < 40 && report.length < 2; i++) report = (await getJson<typeof report>(`${info.url}/messages/fan-report?tag=${tag}`)).body;
    assert.deepEqual(report.map((f) => f.kind).sort(), ['broadcast', 'to-agent']);
  });

  it('rejects what JSON cannot carry, bad actions and bad targets at the send, with codes', async () => {
    const { body } = await getJson<Record<string, string | undefined>>(`${info.url}/messages/errors`);
    assert.deepEqual(body, {
      fn: 'CLUTCH_ERR_MESSENGER_UNSERIALIZABLE',
      bigint: 'CLUTCH_ERR_MESSENGER_UNSERIALIZABLE',
      nan: 'CLUTCH_ERR_MESSENGER_UNSERIALIZABLE',
      circular: 'CLUTCH_ERR_MESSENGER_UNSERIALIZABLE',
      map: 'CLUTCH_ERR_MESSENGER_UNSERIALIZABLE',
      action: 'CLUTCH_ERR_MESSENGER_INVALID_ACTION',
      pid: 'CLUTCH_ERR_MESSENGER_INVALID_TARGET',
      handler: 'CLUTCH_ERR_MESSENGER_HANDLER_EXISTS',
      badToJSON: 'CLUTCH_ERR_MESSENGER_UNSERIALIZABLE',
    });
    // The worker that sent all that is still serving.
    assert.equal((await getJson(`${info.url}/`)).status, 200);
  });
});
