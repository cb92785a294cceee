import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixture, runApp, waitGroupGone } from '../helpers/cluster.ts';

describe('a start that fails', { timeout: 60_000 }, () => {
  it('agent boot error: non-zero exit naming the hook and file, no worker forked, nothing left', async () => {
    const { code, stdout, stderr, app } = await runApp(['start', fixture('agent-boot-error'), '--port', '0', '--workers', '2'], 20_000);
    assert.equal(code, 1);
    assert.match(stderr, /CLUTCH_ERR_CLUSTER_AGENT_BOOT_FAILED/);
    assert.match(stderr, /didLoad in \S+agent\.js failed: the database is unreachable/);
    assert.match(stderr, /CLUTCH_ERR_LIFECYCLE_HOOK_FAILED/);
    assert.ok(!stdout.includes('EVENT boot worker'), 'no worker was forked');
    await waitGroupGone(app.pid, 5_000);
  });

  it('worker boot error: non-zero exit naming the hook and file, nothing left', async () => {
    const { code, stderr, app } = await runApp(['start', fixture('worker-boot-error'), '--port', '0', '--workers', '2'], 20_000);
    assert.equal(code, 1);
    assert.match(stderr, /CLUTCH_ERR_CLUSTER_WORKER_BOOT_FAILED/);
    assert.match(stderr, /willReady in \S+app\.js failed: no cache in this worker/);
    await waitGroupGone(app.pid, 5_000);
  });
});
