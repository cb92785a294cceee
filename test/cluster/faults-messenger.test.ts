import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startFixture, type AppProcess } from '../helpers/cluster.ts';
import { getJson } from '../helpers/http.ts';
import { rssOf } from '../helpers/proc.ts';

type Flood = { pid: number; codes: Record<string, number>; ms: number };

// A flood of messages at a frozen agent, bounded by the send budget, is in test/soak/messenger-flood.soak.ts.
describe('nothing a plugin sends can exhaust the master', { timeout: 90_000 }, () => {
  const started: AppProcess[] = [];
  after(() => {
    for (const app of started) app.kill();
  });

  it('a 256 MB message is refused at the send, and nothing of it reaches the master', async () => {
    const { app, info } = await startFixture('faults', ['--workers', '1']);
    started.push(app);
    const rssBefore = rssOf(info.pid);
    const { body } = await getJson<Flood>(`${info.url}/flood?mb=256&n=1`, { timeoutMs: 30_000 });
    assert.deepEqual(body.codes, { CLUTCH_ERR_MESSENGER_TOO_LARGE: 1 });
    assert.ok(rssOf(info.pid) < rssBefore + 32 * 1024 * 1024, 'the master did not grow');
    const ok = (await getJson<Flood>(`${info.url}/flood?mb=8&n=1`, { timeoutMs: 30_000 })).body;
    assert.deepEqual(ok.codes, { CLUTCH_ERR_MESSENGER_TOO_LARGE: 1 }, '8 MB of text is a little over 8 MB of JSON');
    const small = (await getJson<Flood>(`${info.url}/flood?mb=7&n=1`, { timeoutMs: 30_000 })).body;
    assert.deepEqual(small.codes, { sent: 1 });
  });
});
