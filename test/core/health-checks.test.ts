/** app.health as a unit: a transport that records what would reach the master, no processes. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CheckState, ChildMessage, ChildTransport, Logger } from '@clutch/cluster';
import { HealthChecks } from '@clutch/core';

function recorder() {
  const sent: CheckState[][] = [];
  const lines: string[] = [];
  const transport: ChildTransport = {
    pid: process.pid,
    masterPid: process.ppid,
    send: (message: ChildMessage) => {
      if (message.clutch === 'checks') sent.push(message.checks);
      return true;
    },
    onMessage: () => {},
  };
  const log = (format: string, ...args: unknown[]) => lines.push([format, ...args].join(' '));
  const logger = { info: log, warn: log, error: log, debug: log } as unknown as Logger;
  return { sent, lines, checks: new HealthChecks(transport, logger) };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.ok(check(), 'did not happen within 1 s');
};

describe('health checks', () => {
  it('a new check is pending, then passes; the master hears each change once, not each run', async () => {
    const { sent, checks } = recorder();
    let runs = 0;
    checks.check('db', () => void runs++, { interval: 10 });
    assert.deepEqual(
      sent.map((list) => list.map((c) => c.ok)),
      [[null]],
      'pending at once',
    );
    await until(() => runs >= 4);
    checks.close();
    assert.deepEqual(
      sent.map((list) => list.map((c) => c.ok)),
      [[null], [true]],
      'four runs, one change',
    );
  });

  it('throwing, returning false and hanging past the timeout fail, each with its reason; passing again is a change', async () => {
    const { sent, lines, checks } = recorder();
    let mode: 'throw' | 'false' | 'hang' | 'ok' = 'throw';
    checks.check(
      'cache',
      async () => {
        if (mode === 'throw') throw new Error('connection refused');
        if (mode === 'hang') await new Promise(() => {});
        return mode !== 'false';
      },
      { interval: 5, timeout: 30 },
    );
    const last = () => sent.at(-1)?.[0];
    await until(() => last()?.error === 'connection refused');
    mode = 'false';
    await until(() => last()?.error === 'returned false');
    mode = 'hang';
    await until(() => last()?.error === 'timed out after 30ms');
    mode = 'ok';
    await until(() => last()?.ok === true);
    checks.close();
    assert.ok(lines.some((l) => /fails/.test(l) && /connection refused/.test(l)));
    assert.ok(lines.some((l) => /passes again/.test(l)));
  });

  it('a bad name, function or duration, or a name used twice, is CLUTCH_ERR_HEALTH_CHECK_INVALID', () => {
    const { checks } = recorder();
    const code = (err: unknown) => (err as { code?: string }).code === 'CLUTCH_ERR_HEALTH_CHECK_INVALID';
    assert.throws(() => checks.check('', () => true), code);
    assert.throws(() => checks.check('x', 'nope' as never), code);
    assert.throws(() => checks.check('x', () => true, { timeout: 'soon' }), code);
    checks.check('x', () => true, { interval: '1h' });
    assert.throws(() => checks.check('x', () => true), code);
    checks.close();
  });
});
