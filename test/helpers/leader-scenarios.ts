/**
 * The leader-election scenarios of docs/scaling.md, run against one real store: three clusters of one
 * project on three ports share one lease; a `type: 'cluster'` schedule ticks every 300 ms and
 * every run is written down with its tick and token. Each scenario does to the leader what happens
 * in production — SIGKILL, SIGSTOP past its ttl, a graceful stop, a one-sided partition, the store
 * going away — and the invariants are checked at the end: no tick ran twice, tokens only grow, no
 * token was held by two agents.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterReadyInfo } from '@clutch/cluster';
import { runApp, startFixture, statusOf, type AppProcess } from './cluster.ts';
import { getJson } from './http.ts';
import { startProxy, type StoreServer } from './stores.ts';

// The fixture's timing (test/fixtures/leader/config): ttl 1500, renewDeadline 1000, retryPeriod 200 ms.
const TTL = 1_500;
const RENEW_DEADLINE = 1_000;
const RETRY = 200;

interface Tick {
  tick: number;
  token: number;
  cluster: string;
  at: number;
}
interface LeaderEvent {
  event: 'elected' | 'lost' | 'aborted';
  token: number | null;
  agent: number;
  cluster: string;
  at: number;
}

const readLines = <T>(file: string): T[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);

async function until<T>(what: string, check: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs}ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function leaderScenarios(storeKind: 'postgres' | 'redis', store: StoreServer, started: AppProcess[]): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), `clutch-leader-${storeKind}-`));
  const ticksFile = join(scratch, 'ticks.jsonl');
  const eventsFile = join(scratch, 'events.jsonl');
  writeFileSync(ticksFile, '');
  writeFileSync(eventsFile, '');
  // Cluster c reaches the store through a proxy this test can cut.
  const proxy = await startProxy(store.port);
  const urlOf = (id: string) => (id === 'c' ? store.url.replace(`:${store.port}`, `:${proxy.port}`) : store.url);
  const clusters = new Map<string, { app: AppProcess; info: ClusterReadyInfo }>();
  const launch = async (id: string) => {
    const env = {
      LEADER_STORE: storeKind,
      LEADER_URL: urlOf(id),
      LEADER_NAME: `leader-${storeKind}`,
      CLUSTER_ID: id,
      TICKS_FILE: ticksFile,
      EVENTS_FILE: eventsFile,
    };
    const c = await startFixture('leader', ['--workers', '1', '--stall-timeout', '0'], { env });
    started.push(c.app);
    clusters.set(id, c);
    return c;
  };
  const leaders = async () => {
    const out: string[] = [];
    for (const [id, c] of clusters) if ((await statusOf(c.app))?.leader?.leading) out.push(id);
    return out;
  };
  const oneLeader = (what: string, timeoutMs: number, not?: string) =>
    until(
      what,
      async () => {
        const l = await leaders();
        return l.length === 1 && l[0] !== not ? l[0]! : null;
      },
      timeoutMs,
    );
  const electedSince = (since: number, not?: string) =>
    readLines<LeaderEvent>(eventsFile).find((e) => e.event === 'elected' && e.at >= since && e.cluster !== not);
  const ticksSince = (since: number) => readLines<Tick>(ticksFile).filter((t) => t.at >= since);

  try {
    await Promise.all(['a', 'b', 'c'].map(launch));

    // Steady state: one leader, ticks every 300 ms.
    const first = await oneLeader('a first leader', 5_000);
    await until('ticks', () => ticksSince(0).length >= 5, 5_000);
    assert.deepEqual(await leaders(), [first], 'still one leader');
    assert.ok(
      ticksSince(0).every((t) => t.cluster === first),
      'only the leader ran ticks',
    );

    // A graceful stop of the leader: another takes over within about a retry period.
    const stopAt = Date.now();
    const leaving = clusters.get(first)!;
    const stopped = await runApp(
      ['stop', leaving.app.child.spawnargs[3]!, '--title', leaving.app.child.spawnargs[leaving.app.child.spawnargs.indexOf('--title') + 1]!],
      20_000,
    );
    assert.equal(stopped.code, 0, stopped.stderr);
    const released = readLines<LeaderEvent>(eventsFile).find((e) => e.event === 'lost' && e.cluster === first && e.at >= stopAt);
    assert.ok(released, 'the leader stepped down as it stopped');
    const handover = await until('a handover', () => electedSince(stopAt, first), 3_000);
    assert.ok(handover.at - released.at < RETRY * 3 + 400, `handover ${handover.at - released.at}ms after the release`);
    const figures: Record<string, number> = { handoverMs: handover.at - released.at };
    await until('the new leader ticks', () => ticksSince(handover.at).some((t) => t.token === handover.token), 3_000);
    clusters.delete(first);
    await launch(first);

    // SIGKILL of the leader's whole cluster: replaced within ttl + retry period (+ a margin).
    const victim = await oneLeader('a leader to kill', 5_000);
    const killAt = Date.now();
    clusters.get(victim)!.app.kill();
    clusters.delete(victim);
    const next = await until('a new leader after the kill', () => electedSince(killAt), TTL + RETRY + 3_000);
    assert.ok(next.at - killAt <= TTL + RETRY + 1_000, `failover took ${next.at - killAt}ms`);
    figures.killFailoverMs = next.at - killAt;
    await until('the leader after the kill ticks', () => ticksSince(next.at).some((t) => t.token === next.token), 3_000);
    await launch(victim);

    // SIGSTOP of the leader's agent past its ttl: someone else leads; woken, it reports lost and runs nothing.
    const paused = await oneLeader('a leader to pause', 5_000);
    const pausedInfo = (await statusOf(clusters.get(paused)!.app))!;
    const oldToken = pausedInfo.leader!.token!;
    process.kill(pausedInfo.agent!.pid, 'SIGSTOP');
    const pauseAt = Date.now();
    try {
      await until('a leader while the old one sleeps', () => electedSince(pauseAt, paused), TTL + RETRY + 3_000);
    } finally {
      process.kill(pausedInfo.agent!.pid, 'SIGCONT');
    }
    const wokeAt = Date.now();
    await until(
      'the woken agent reports lost',
      () => readLines<LeaderEvent>(eventsFile).find((e) => e.event === 'lost' && e.cluster === paused && e.at >= wokeAt - 50),
      2_000,
    );
    await new Promise((r) => setTimeout(r, 600));
    assert.ok(!ticksSince(wokeAt).some((t) => t.token === oldToken), 'no tick ran under the old token after it woke');

    // A one-sided partition: cluster c leads, then its path to the store goes dark.
    for (const id of ['a', 'b']) {
      const c = clusters.get(id)!;
      const args = c.app.child.spawnargs;
      await runApp(['stop', args[3]!, '--title', args[args.indexOf('--title') + 1]!], 20_000);
      clusters.delete(id);
    }
    await oneLeader('c leads alone', TTL + RETRY + 3_000);
    const cutAt = Date.now();
    proxy.mode('blackhole');
    await until(
      'c steps down when it cannot renew',
      () => readLines<LeaderEvent>(eventsFile).find((e) => e.event === 'lost' && e.cluster === 'c' && e.at >= cutAt),
      RENEW_DEADLINE + 1_500,
    );
    const lostAt = readLines<LeaderEvent>(eventsFile).find((e) => e.event === 'lost' && e.cluster === 'c' && e.at >= cutAt)!.at;
    assert.ok(lostAt - cutAt <= RENEW_DEADLINE + 500, `c stepped down ${lostAt - cutAt}ms after the cut`);
    figures.partitionStepDownMs = lostAt - cutAt;
    const a = await launch('a');
    await until('a leads once c’s lease lapses', () => electedSince(cutAt, 'c'), TTL + RETRY + 5_000);
    proxy.mode('reset');
    await new Promise((r) => setTimeout(r, 500));
    proxy.mode('pass');
    assert.deepEqual(await leaders(), ['a'], 'c came back as a follower');

    // The store goes away: HTTP serves on, the leader steps down within its renew deadline, and the log says why.
    const downAt = Date.now();
    await store.halt();
    const served = await Promise.all([...clusters.values()].flatMap((c) => Array.from({ length: 20 }, () => getJson(`${c.info.url}/`))));
    assert.ok(
      served.every((r) => r.status === 200),
      'every request served while the store is down',
    );
    await until('the leader steps down', () => readLines<LeaderEvent>(eventsFile).find((e) => e.event === 'lost' && e.at >= downAt), RENEW_DEADLINE + 2_000);
    await until('the outage is logged', () => a.app.stderr.includes('CLUTCH_ERR_LEADER_STORE_UNREACHABLE'), 3_000);
    assert.deepEqual(await leaders(), [], 'nobody leads without the store');
    const upAt = Date.now();
    await store.start();
    await oneLeader('a leader once the store is back', TTL + RETRY + 8_000);
    await until('ticks resume', () => ticksSince(upAt).length >= 2, 5_000);

    // The invariants, over everything that ran.
    const ticks = readLines<Tick>(ticksFile).sort((x, y) => x.tick - y.tick);
    const seen = new Set<number>();
    for (const t of ticks) {
      assert.ok(!seen.has(t.tick), `tick ${t.tick} ran twice`);
      seen.add(t.tick);
    }
    for (let i = 1; i < ticks.length; i++)
      assert.ok(ticks[i]!.token >= ticks[i - 1]!.token, `tick ${ticks[i]!.tick} ran under token ${ticks[i]!.token}, older than ${ticks[i - 1]!.token}`);
    const holders = new Map<number, string>();
    for (const e of readLines<LeaderEvent>(eventsFile).filter((x) => x.event === 'elected')) {
      const holder = `${e.cluster}/${e.agent}`;
      assert.ok(!holders.has(e.token!) || holders.get(e.token!) === holder, `token ${e.token} held by ${holders.get(e.token!)} and ${holder}`);
      holders.set(e.token!, holder);
    }
    const tokens = readLines<LeaderEvent>(eventsFile)
      .filter((x) => x.event === 'elected')
      .map((e) => e.token!);
    assert.deepEqual(
      tokens,
      [...tokens].sort((x, y) => x - y),
      'tokens only grow',
    );
    // Liveness: the first leader, the one after the handover, the one after the kill and the one after the outage all ran the job.
    assert.ok(new Set(ticks.map((t) => t.token)).size >= 4, `ticks ran under ${new Set(ticks.map((t) => t.token)).size} terms`);
    figures.ticks = ticks.length;
    figures.terms = tokens.length;
    // Measured figures, for docs/scaling.md (the test runner prints them).
    console.log(`leader ${storeKind}: ${JSON.stringify(figures)}`);
  } finally {
    await proxy.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}
