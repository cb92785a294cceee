/** The monitor (status and /metrics), without processes: fake children that answer a scrape, a real watchdog and restart log. */
import assert from 'node:assert/strict';
import { afterEach, describe, it, mock } from 'node:test';
import type { HeartbeatMessage, LeaderMessage, MasterMessage } from '@clutch/cluster';
import type { HttpCounts } from '../../packages/cluster/src/http-stats.ts';
import { emptyHttp } from '../../packages/cluster/src/metrics.ts';
import { Monitor, type MonitorHost } from '../../packages/cluster/src/monitor.ts';
import { RestartLog } from '../../packages/cluster/src/restart-log.ts';
import { Watchdog } from '../../packages/cluster/src/watchdog.ts';
import { FakeAgent, FakeWorker, recordingLogger } from '../helpers/fake-children.ts';

/** HTTP counts with `ok` 2xx responses. */
function served(ok: number): HttpCounts {
  const http = emptyHttp();
  http.classes[1] = ok;
  return http;
}

function beat(http?: HttpCounts): HeartbeatMessage {
  return { clutch: 'heartbeat', cpu: { user: 0, system: 0 }, rss: 1, heapUsed: 1, heapTotal: 1, loop: { mean: 0, p99: 0, max: 0 }, ...(http ? { http } : {}) };
}

/** A monitor over a fake master. Each worker answers a scrape with `answers.get(worker)`, or stays silent when absent. */
function monitor() {
  const watchdog = new Watchdog({ stallTimeout: 0, maxMemory: undefined, onStall: () => {}, onMemory: () => true });
  const restarts = new RestartLog();
  const workers = new Map<FakeWorker, number>();
  const answers = new Map<FakeWorker, HttpCounts>();
  let agent: FakeAgent | null = null;
  const host: MonitorHost = {
    title: 'demo',
    baseDir: '/srv/demo',
    env: 'prod',
    masterState: () => 'ready',
    url: () => 'http://127.0.0.1:7001',
    children: {
      get agent() {
        return agent as never;
      },
      bySlot: () => [...workers].map(([worker, slot]) => ({ worker: worker as never, slot })),
    },
    readiness: () => ({ ready: true, failing: [], minReady: 1, readySlots: 1, agent: null, workers: [] }),
    workersInRotation: () => workers.size,
    waitingConnections: () => 0,
    messenger: () => ({ queued: 0, refused: 0, bytes: [] }),
    logger: recordingLogger(),
  };
  const m = new Monitor(host, watchdog, restarts);
  monitors.push(m);
  const addWorker = (slot: number) => {
    const w = new FakeWorker();
    w.serve();
    workers.set(w, slot);
    w.process.on('sent', (message: MasterMessage) => {
      const http = answers.get(w);
      if (message.clutch === 'collect-metrics' && http) queueMicrotask(() => m.received({ clutch: 'metrics', id: message.id, metrics: null, http }));
    });
    return w;
  };
  const removeWorker = (w: FakeWorker) => {
    const slot = workers.get(w)!;
    workers.delete(w);
    m.workerExited(w, slot);
  };
  const setAgent = (a: FakeAgent | null) => (agent = a);
  return { monitor: m, watchdog, restarts, answers, addWorker, removeWorker, setAgent };
}

const monitors: Monitor[] = [];
afterEach(() => {
  for (const m of monitors.splice(0)) m.close();
  mock.timers.reset();
});

/** The value of one sample line of /metrics. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  assert.ok(line, `no ${series} in\n${text}`);
  return Number(line.slice(series.length + 1));
}
const OK = 'clutch_http_requests_total{status_class="2xx"}';

describe('the monitor', { timeout: 10_000 }, () => {
  it("the cluster's HTTP counts never go back: an exited worker's responses stay counted", async () => {
    const { monitor: m, watchdog, answers, addWorker, removeWorker } = monitor();
    const first = addWorker(0);
    watchdog.beat(first, beat(served(10)));
    answers.set(first, served(10));
    assert.equal(sample(await m.metrics(), OK), 10);
    removeWorker(first);
    const second = addWorker(0);
    watchdog.beat(second, beat(served(5)));
    answers.set(second, served(5));
    assert.equal(sample(await m.metrics(), OK), 15);
  });

  it('an exited worker counts as of its latest figures: a scrape fresher than its last heartbeat, or the reverse', async () => {
    const { monitor: m, watchdog, answers, addWorker, removeWorker } = monitor();
    const scrapedLast = addWorker(0);
    watchdog.beat(scrapedLast, beat(served(10)));
    answers.set(scrapedLast, served(12));
    await m.metrics();
    removeWorker(scrapedLast);
    const beatLast = addWorker(1);
    answers.set(beatLast, served(3));
    await m.metrics();
    watchdog.beat(beatLast, beat(served(20)));
    removeWorker(beatLast);
    assert.equal(sample(await m.metrics(), OK), 12 + 20);
  });

  it('a scrape takes the workers’ fresh counts; a worker that does not answer within 2 s is counted from its heartbeat', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    const { monitor: m, watchdog, answers, addWorker } = monitor();
    const answering = addWorker(0);
    watchdog.beat(answering, beat(served(1)));
    answers.set(answering, served(7));
    const silent = addWorker(1);
    watchdog.beat(silent, beat(served(4)));
    let done = false;
    const text = m.metrics().finally(() => (done = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(done, false, 'it waits for the silent worker');
    mock.timers.tick(2_000);
    assert.equal(sample(await text, OK), 7 + 4);
  });

  it('status lists every worker by slot with its restarts, and the master as the host sees it', async () => {
    const { monitor: m, restarts, addWorker, setAgent } = monitor();
    const agent = new FakeAgent();
    agent.booted();
    setAgent(agent);
    const w0 = addWorker(0);
    const w1 = addWorker(1);
    restarts.record(1, 'crash');
    restarts.record(1, 'reload');
    const status = await m.status();
    assert.equal(status.master.title, 'demo');
    assert.equal(status.master.url, 'http://127.0.0.1:7001');
    assert.equal(status.agent?.pid, agent.pid);
    assert.deepEqual(
      status.workers.map((w) => [w.pid, w.slot, w.restarts, w.lastRestart?.reason ?? null]),
      [
        [w0.pid, 0, 0, null],
        [w1.pid, 1, 1, 'reload'],
      ],
    );
  });

  it("leadership is the current agent's word; elections of agents before it stay counted", async () => {
    const { monitor: m, setAgent } = monitor();
    const leading: LeaderMessage = { clutch: 'leader', leading: true, token: 7, store: 'redis', transitions: 3 };
    const first = new FakeAgent();
    first.booted();
    setAgent(first);
    m.leader(first, leading);
    assert.deepEqual((await m.status()).leader, { leading: true, token: 7, store: 'redis' });
    first.process.exit(1);
    assert.equal((await m.status()).leader, null, 'a dead agent leads nothing');
    const second = new FakeAgent();
    second.booted();
    setAgent(second);
    assert.equal((await m.status()).leader, null, 'the new agent has not spoken yet');
    m.leader(second, { ...leading, token: 8, transitions: 1 });
    const text = await m.metrics();
    assert.equal(sample(text, 'clutch_leader_transitions_total'), 4);
    assert.equal(sample(text, 'clutch_leader{store="redis"}'), 1);
  });
});
