import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { commandOf, startFixture, statusOf, type AppProcess } from '../helpers/cluster.ts';
import { getJson } from '../helpers/http.ts';

const value = (metrics: string, series: string): number | null => {
  const line = metrics.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? null : Number(line.slice(series.length + 1));
};

describe("the agent's and the master's own figures in /metrics", { timeout: 60_000 }, () => {
  const started: AppProcess[] = [];
  after(() => {
    for (const app of started) app.kill();
  });

  it('schedule runs and failures by name with their durations, reloads with theirs, bytes queued per target, the lease term', async () => {
    const { app, info } = await startFixture('observed', ['--workers', '1', '--health-port', '0']);
    started.push(app);
    const scrape = async () => (await getJson<string>(`${info.health}/metrics`)).body;
    let metrics = await scrape();
    for (let i = 0; i < 100 && !((value(metrics, 'clutch_schedule_runs_total{schedule="observed:app/schedule/broken.js"}') ?? 0) >= 3); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      metrics = await scrape();
    }
    const broken = value(metrics, 'clutch_schedule_runs_total{schedule="observed:app/schedule/broken.js"}')!;
    assert.ok(broken >= 3, 'the failing schedule ran');
    assert.equal(value(metrics, 'clutch_schedule_failures_total{schedule="observed:app/schedule/broken.js"}'), broken, 'every run of it failed');
    assert.equal(value(metrics, 'clutch_schedule_duration_seconds_count{schedule="observed:app/schedule/broken.js"}'), broken);
    const tick = value(metrics, 'clutch_schedule_runs_total{schedule="observed:app/schedule/tick.js"}')!;
    assert.ok(tick >= 1);
    assert.equal(value(metrics, 'clutch_schedule_failures_total{schedule="observed:app/schedule/tick.js"}'), 0);
    assert.equal(value(metrics, 'clutch_schedule_duration_seconds_bucket{schedule="observed:app/schedule/tick.js",le="+Inf"}'), tick);
    assert.notEqual(value(metrics, 'clutch_messenger_queued_bytes{target="agent"}'), null);
    assert.ok(value(metrics, 'clutch_leader_term')! > 0, 'the local store leads: its token is the term');

    const s = (await statusOf(app))!;
    const names = s.schedules.map((r) => r.name).sort();
    assert.deepEqual(names, ['observed:app/schedule/broken.js', 'observed:app/schedule/tick.js']);
    assert.equal(s.schedules.find((r) => r.name === 'observed:app/schedule/broken.js')!.last?.ok, false);

    const reload = await commandOf(app, 'reload', [], 40_000);
    assert.equal(reload.code, 0, reload.stderr);
    metrics = await scrape();
    assert.equal(value(metrics, 'clutch_reload_runs_total{replaced="workers+agent"}'), 1);
    assert.equal(value(metrics, 'clutch_reload_failures_total{replaced="workers+agent"}'), 0);
    assert.equal(value(metrics, 'clutch_reload_duration_seconds_count{replaced="workers+agent"}'), 1);
    assert.ok(value(metrics, 'clutch_reload_duration_seconds_sum{replaced="workers+agent"}')! > 0);
  });
});
