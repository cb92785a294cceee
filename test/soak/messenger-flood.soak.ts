/** Soak: 1.5 GB sent at a frozen agent (test/run-soak.js). The refusal of one message too large is in test/cluster/faults-messenger.test.ts. */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startFixture, type AppProcess } from '../helpers/cluster.ts';
import { getJson } from '../helpers/http.ts';
import { rssOf } from '../helpers/proc.ts';

type Flood = { pid: number; codes: Record<string, number>; ms: number };

describe('nothing a plugin sends can exhaust the master, under a flood', { timeout: 90_000 }, () => {
  const started: AppProcess[] = [];
  after(() => {
    for (const app of started) app.kill();
  });

  it('1.5 GB of 1 MB messages to a SIGSTOPped agent: the master stays small, the sender gets coded errors, the agent gets what was accepted', async () => {
    const { app, info } = await startFixture('faults', ['--workers', '2']);
    started.push(app);
    const rssBefore = rssOf(info.pid);
    process.kill(info.agent, 'SIGSTOP');
    let sent: number;
    const codes: Record<string, number> = {};
    try {
      // Both workers flood the paused agent: 2 × 750 × 1 MB.
      const floods = await Promise.all([0, 1].map(() => getJson<Flood>(`${info.url}/flood?mb=1&n=750`, { timeoutMs: 60_000 })));
      for (const { status, body } of floods) {
        assert.equal(status, 200);
        for (const [code, n] of Object.entries(body.codes)) codes[code] = (codes[code] ?? 0) + n;
      }
      sent = codes.sent ?? 0;
      assert.ok(sent > 0 && sent < 200, `the budget let some through and refused the rest: ${JSON.stringify(codes)}`);
      assert.equal(sent + (codes.CLUTCH_ERR_MESSENGER_QUEUE_FULL ?? 0), 1_500, `every other send was refused with QUEUE_FULL: ${JSON.stringify(codes)}`);
      const rss = rssOf(info.pid);
      assert.ok(rss < 500 * 1024 * 1024, `the master's RSS is ${(rss / 1048576).toFixed(0)} MB (was ${(rssBefore / 1048576).toFixed(0)} MB)`);
    } finally {
      process.kill(info.agent, 'SIGCONT');
    }
    // The agent reads what was accepted; every accepted message arrives, whole.
    let count = { blobs: 0, bytes: 0 };
    for (let i = 0; i < 100 && count.blobs < sent; i++) {
      count = (await getJson<{ blobs: number; bytes: number }>(`${info.url}/blob-count`, { timeoutMs: 20_000 })).body;
      if (count.blobs < sent) await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(count, { blobs: sent, bytes: sent * 1024 * 1024 });
    // The budget came back: the next message goes through.
    const again = (await getJson<Flood>(`${info.url}/flood?mb=1&n=1`)).body;
    assert.deepEqual(again.codes, { sent: 1 });
    // Refusals happen in the sender, at the send: the master logged none of them one by one.
    assert.ok(!/undeliverable message "blob"/.test(app.stderr), 'no line per refused message');
  });
});
