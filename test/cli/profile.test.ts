import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { APP_BIN, commandOf, startFixture, type AppProcess } from '../helpers/cluster.ts';
import { startLoad } from '../helpers/load.ts';
import { NOBODY, nodeForOthers } from '../helpers/users.ts';

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string } }>;
  samples: number[];
  startTime: number;
  endTime: number;
}

/** `app profile <dir> … --title <title>` of the cluster `app` runs. */
const profile = (app: AppProcess, ...rest: string[]) => commandOf(app, 'profile', rest);

describe('app profile (docs/operations.md, "Profiles on demand")', { timeout: 90_000 }, () => {
  const started: AppProcess[] = [];
  const out = mkdtempSync(join(tmpdir(), 'clutch-profile-'));
  after(() => {
    for (const app of started) app.kill();
    rmSync(out, { recursive: true, force: true });
  });

  it('a 2 s CPU profile of worker 0 and a heap snapshot of the agent under load: files that parse, no failed request', async () => {
    const { app, info } = await startFixture('reloadable', ['--workers', '2']);
    started.push(app);
    const load = startLoad(`${info.url}/`, { connections: 8, durationMs: 60_000, paceMs: 5 });
    while (load.result.ok < 200) await new Promise((r) => setTimeout(r, 20));

    const cpuFile = join(out, 'w0.cpuprofile');
    const began = Date.now();
    const okBefore = load.result.ok;
    const cpu = await profile(app, '--worker', '0', '--cpu', '2s', '--out', cpuFile);
    assert.equal(cpu.code, 0, cpu.stderr);
    assert.equal(cpu.stdout.trim(), cpuFile, 'the path is printed');
    assert.ok(Date.now() - began >= 2_000, 'it sampled for the time asked');
    assert.ok(load.result.ok - okBefore > 100, `the worker kept serving while sampled (${load.result.ok - okBefore} answers meanwhile)`);
    const parsed = JSON.parse(readFileSync(cpuFile, 'utf8')) as CpuProfile;
    assert.ok(parsed.nodes.length > 10 && parsed.samples.length > 100, `${parsed.nodes.length} nodes, ${parsed.samples.length} samples`);
    assert.ok(parsed.endTime - parsed.startTime >= 1.9e6, 'spans about 2 s (µs)');
    assert.ok(
      parsed.nodes.some((n) => /parserOnHeadersComplete|emit|processTicksAndRejections/.test(n.callFrame.functionName)),
      'it sampled the worker serving HTTP',
    );
    assert.equal(statSync(cpuFile).mode & 0o077, 0, 'readable by its owner only');

    const heap = await profile(app, '--agent', '--heap');
    assert.equal(heap.code, 0, heap.stderr);
    const heapFile = heap.stdout.trim();
    assert.match(heapFile, /-agent-\d+-.*\.heapsnapshot$/);
    const snapshot = JSON.parse(readFileSync(heapFile, 'utf8')) as { snapshot: { meta: { node_fields: string[] }; node_count: number }; nodes: number[] };
    rmSync(heapFile);
    assert.ok(snapshot.snapshot.node_count > 1000);
    assert.equal(snapshot.nodes.length, snapshot.snapshot.node_count * snapshot.snapshot.meta.node_fields.length);

    const master = await profile(app, '--master', '--cpu', '300ms', '--out', join(out, 'm.cpuprofile'));
    assert.equal(master.code, 0, master.stderr);
    assert.ok((JSON.parse(readFileSync(join(out, 'm.cpuprofile'), 'utf8')) as CpuProfile).samples.length > 0);

    load.stop();
    const result = await load.done;
    assert.deepEqual(result.failures, {}, 'no request failed');

    // Bad asks: a slot with no worker, a sampling time out of range, two targets.
    const none = await profile(app, '--worker', '5');
    assert.equal(none.code, 1);
    assert.match(none.stderr, /CLUTCH_ERR_PROFILE_NO_TARGET.*slots: 0, 1/);
    const short = await profile(app, '--worker', '1', '--cpu', '20ms');
    assert.equal(short.code, 1);
    assert.match(short.stderr, /CLUTCH_ERR_PROFILE_FAILED.*from 100 ms/);
    const both = await profile(app, '--worker', '1', '--agent');
    assert.equal(both.code, 2);
    assert.match(both.stderr, /CLUTCH_ERR_CLI_BAD_VALUE/);
  });

  it('another user is refused (exit 4) and gets no file', async () => {
    const { app } = await startFixture('basic', ['--workers', '1']);
    started.push(app);
    const theirs = join(out, 'nobody');
    mkdirSync(theirs, { mode: 0o777 });
    chmodSync(out, 0o755);
    chmodSync(theirs, 0o777);
    const args = app.child.spawnargs;
    const child = spawn(
      nodeForOthers(),
      [APP_BIN, 'profile', args[args.indexOf('start') + 1]!, '--title', args[args.indexOf('--title') + 1]!, '--worker', '0', '--cpu', '200ms'],
      { uid: NOBODY, gid: NOBODY, cwd: theirs, env: { ...process.env, TMPDIR: theirs, HOME: theirs, XDG_RUNTIME_DIR: '', CLUTCH_RUN_DIR: '' } },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearTimeout(timer);
    assert.equal(code, 4, stderr);
    assert.match(stderr, /CLUTCH_ERR_CONTROL_UNREACHABLE.*runs as uid 0 and you are uid 65534/);
  });
});
