/** Coded errors that only a real command shows: each made to happen, its code asserted. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { AppProcess, fixture, runApp, startFixture } from '../helpers/cluster.ts';
import { getJson } from '../helpers/http.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('coded errors of the app command', { timeout: 60_000 }, () => {
  const started: AppProcess[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'clutch-codes-'));
  after(() => {
    for (const app of started) app.kill();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('a second start of the same project and title: CLUTCH_ERR_CONTROL_ALREADY_RUNNING; a reload of one not running: CLUTCH_ERR_CONTROL_NOT_RUNNING', async () => {
    const title = `codes-${process.pid}`;
    const { app } = await startFixture('faults', ['--workers', '1', '--title', title]);
    started.push(app);
    const second = await runApp(['start', fixture('faults'), '--port', '0', '--workers', '1', '--title', title], 20_000);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /CLUTCH_ERR_CONTROL_ALREADY_RUNNING/);
    const reload = await runApp(['reload', fixture('faults'), '--title', `${title}-none`], 20_000);
    assert.equal(reload.code, 3);
    assert.match(reload.stderr, /CLUTCH_ERR_CONTROL_NOT_RUNNING/);
  });

  it('a stop during the start: CLUTCH_ERR_CLUSTER_START_ABORTED in the log, exit 0, nothing left', async () => {
    const app = new AppProcess(['start', fixture('hang'), '--port', '0', '--workers', '1', '--title', `abort-${process.pid}`], { HANG: 'worker' });
    started.push(app);
    await app.waitForLine(/EVENT didLoad worker/, 15_000);
    app.signal('SIGTERM');
    const exit = await app.waitForExit(15_000);
    assert.equal(exit.code, 0);
    assert.match(app.stderr, /start failed \[CLUTCH_ERR_CLUSTER_START_ABORTED\]/);
  });

  it('an exception in the master is logged (CLUTCH_ERR_MASTER_UNCAUGHT) and the cluster serves on', async () => {
    // Preloaded into every process; it throws only in the master (the children have CLUTCH_PROCESS),
    // once the master has its handler: a fixed delay raced the master's start on a loaded machine.
    const boom = join(scratch, 'boom.mjs');
    writeFileSync(
      boom,
      "if (!process.env.CLUTCH_PROCESS) { const t = setInterval(() => { if (process.listenerCount('uncaughtException') === 0) return; clearInterval(t); setTimeout(() => { throw new Error('a bug in the master'); }); }, 5); }\n",
    );
    const app = new AppProcess(['start', fixture('faults'), '--port', '0', '--workers', '1', '--title', `boom-${process.pid}`], {
      NODE_OPTIONS: `--import ${boom}`,
    });
    started.push(app);
    const info = await app.waitForReady(20_000);
    await app.waitForLine(/CLUTCH_ERR_MASTER_UNCAUGHT\].*a bug in the master/, 5_000);
    assert.equal((await getJson(`${info.url}/`)).status, 200);
  });

  it('log lines that cannot be written are dropped, said once on stderr: CLUTCH_ERR_LOG_WRITE_FAILED', () => {
    const logs = join(scratch, 'logs');
    mkdirSync(logs);
    symlinkSync('/dev/full', join(logs, 'worker.log'));
    const script =
      "import { createLogger, logHealth } from '@clutch/cluster'; const l = createLogger('worker'); for (let i = 0; i < 5; i++) l.error('line %d', i); console.log(JSON.stringify(logHealth()));";
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      env: { ...process.env, CLUTCH_LOG_DIR: logs },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.match(/CLUTCH_ERR_LOG_WRITE_FAILED/g)?.length, 1, 'said once');
    assert.match(r.stderr, /ENOSPC/);
  });

  it('a CLI that cannot find @clutch/core: CLUTCH_ERR_CLI_NO_FRAMEWORK, exit 2', () => {
    // The CLI alone, with @clutch/cluster and its own dependencies but no @clutch/core anywhere.
    const cli = join(scratch, 'cli');
    cpSync(join(root, 'packages', 'cli', 'bin'), join(cli, 'bin'), { recursive: true });
    cpSync(join(root, 'packages', 'cli', 'dist'), join(cli, 'dist'), { recursive: true });
    writeFileSync(join(cli, 'package.json'), JSON.stringify({ name: 'lonely-cli', type: 'module' }));
    mkdirSync(join(cli, 'node_modules', '@clutch'), { recursive: true });
    symlinkSync(join(root, 'packages', 'cluster'), join(cli, 'node_modules', '@clutch', 'cluster'));
    symlinkSync(join(root, 'node_modules', 'bytes'), join(cli, 'node_modules', 'bytes'));
    const project = join(scratch, 'empty-project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'empty', type: 'module' }));
    const r = spawnSync(process.execPath, [join(cli, 'bin', 'app.js'), 'start', project, '--port', '0'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /CLUTCH_ERR_CLI_NO_FRAMEWORK/);
  });
});
