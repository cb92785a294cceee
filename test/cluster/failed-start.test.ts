import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { fixture, runApp, waitGroupGone } from '../helpers/cluster.ts';

describe('a start that fails', { timeout: 60_000 }, () => {
  it('agent boot error: non-zero exit naming the hook and file, no worker booted, nothing left', async () => {
    const { code, stdout, stderr, app } = await runApp(['start', fixture('agent-boot-error'), '--port', '0', '--workers', '2'], 20_000);
    assert.equal(code, 1);
    assert.match(stderr, /CLUTCH_ERR_CLUSTER_AGENT_BOOT_FAILED/);
    assert.match(stderr, /didLoad in \S+agent\.js failed: the database is unreachable/);
    assert.match(stderr, /CLUTCH_ERR_LIFECYCLE_HOOK_FAILED/);
    assert.ok(!stdout.includes('EVENT boot worker'), 'no worker booted');
    await waitGroupGone(app.pid, 5_000);
  });

  it('worker boot error: non-zero exit naming the hook and file, nothing left', async () => {
    const { code, stderr, app } = await runApp(['start', fixture('worker-boot-error'), '--port', '0', '--workers', '2'], 20_000);
    assert.equal(code, 1);
    assert.match(stderr, /CLUTCH_ERR_CLUSTER_WORKER_BOOT_FAILED/);
    assert.match(stderr, /willReady in \S+app\.js failed: no cache in this worker/);
    await waitGroupGone(app.pid, 5_000);
  });

  for (const role of ['agent', 'worker'] as const) {
    it(`a hung ${role} past --timeout: non-zero exit naming what still starts, nothing left`, async () => {
      const { code, stderr, app } = await runApp(['start', fixture('hang'), '--port', '0', '--workers', '1', '--timeout', '1500'], 20_000, { HANG: role });
      assert.equal(code, 1);
      assert.match(stderr, /CLUTCH_ERR_CLUSTER_START_TIMEOUT/);
      assert.match(stderr, new RegExp(`not ready within 1500ms; still starting: ${role} \\d+`));
      await waitGroupGone(app.pid, 5_000);
    });
  }

  it('the port in use: non-zero exit naming the port and a free one, nothing left', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const { code, stderr, app } = await runApp(['start', fixture('basic'), '--port', String(port), '--workers', '2'], 20_000);
      assert.equal(code, 1);
      assert.match(stderr, /CLUTCH_ERR_CLUSTER_PORT_IN_USE/);
      assert.match(stderr, new RegExp(`Port ${port} is already in use; port \\d+ is free \\(--port \\d+\\)`));
      await waitGroupGone(app.pid, 5_000);
    } finally {
      blocker.close();
    }
  });

  it('a config file that does not parse: non-zero exit naming the file, nothing left', async () => {
    const { code, stderr, app } = await runApp(['start', fixture('bad-config'), '--port', '0', '--workers', '1'], 20_000);
    assert.equal(code, 1);
    assert.match(stderr, /CLUTCH_ERR_CONFIG_LOAD_FAILED/);
    assert.match(stderr, /Failed to load \S+bad-config\/config\/config\.default\.js/);
    await waitGroupGone(app.pid, 5_000);
  });

  it('a process that dies after its own boot but before the cluster is ready fails the start', async () => {
    const { code, stderr, stdout, app } = await runApp(['start', fixture('dies-during-start'), '--port', '0', '--workers', '1'], 20_000);
    assert.equal(code, 1);
    assert.match(stderr, /CLUTCH_ERR_CLUSTER_PROCESS_EXITED/);
    assert.match(stderr, /The agent \(pid \d+\) exited during the start of the cluster \(code 1/);
    assert.ok(!/started on/.test(stdout), 'never reported ready');
    await waitGroupGone(app.pid, 5_000);
  });
});
