import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { ChildMessage, FrameworkMessage, Logger } from '@clutch/cluster';
import { installTracing, tracing, type Tracing } from '@clutch/cluster/tracing';
import { Messenger } from '@clutch/core';

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** A messenger over a fake channel: what it sends, and a way to deliver to it. */
function messenger() {
  const sent: ChildMessage[] = [];
  let deliver: (m: FrameworkMessage) => void = () => {};
  const m = new Messenger(
    {
      pid: 4242,
      masterPid: 1,
      send: (message) => sent.push(message) > 0,
      onMessage: (handler) => (deliver = handler),
    },
    { logger: silent, pids: { agent: 2, workers: [] }, requestTimeout: 1000 },
  );
  return { m, sent, deliver: (message: FrameworkMessage) => deliver(message) };
}

/** A Tracing that records what the messenger asked of it. */
function recorder() {
  const calls: string[] = [];
  const value: Tracing = {
    outgoing: (kind, action, target) => {
      calls.push(`out ${kind} ${action} ${target}`);
      return { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`, end: (err) => calls.push(`end ${action}${err ? ' failed' : ''}`) };
    },
    incoming: (kind, action, traceparent, fn) => {
      calls.push(`in ${kind} ${action} ${traceparent.slice(3, 7)}`);
      return fn();
    },
    logFields: () => undefined,
    configure: () => {},
    flush: async () => {},
  };
  return { calls, value };
}

const KEY = Symbol.for('clutch.tracing');

describe('messenger trace context (docs/operations.md)', () => {
  afterEach(() => {
    delete (globalThis as { [KEY]?: unknown })[KEY];
  });

  it('with telemetry off, the envelope has no trace field at all', async () => {
    assert.equal(tracing(), undefined);
    const { m, sent, deliver } = messenger();
    m.sendToApp('a', { x: 1 });
    const reply = m.request('agent', 'b', null);
    const rid = (sent[1] as { rid: number }).rid;
    deliver({ clutch: 'reply', rid, payload: '1', from: 'agent', pid: 2 });
    assert.equal(await reply, 1);
    for (const message of sent) assert.ok(!('trace' in message), JSON.stringify(message));
  });

  it('with a Tracing installed, sends and requests carry its traceparent, and a delivery with one runs its handler inside it', async () => {
    const { calls, value } = recorder();
    installTracing(value);
    const { m, sent, deliver } = messenger();
    m.sendToApp('a', { x: 1 });
    const reply = m.request('agent', 'b', null);
    for (const message of sent) assert.equal((message as { trace?: string }).trace, `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`);
    deliver({ clutch: 'reply', rid: (sent[1] as { rid: number }).rid, payload: '2', from: 'agent', pid: 2 });
    assert.equal(await reply, 2);

    m.handle('h', (data) => data);
    deliver({ clutch: 'deliver', action: 'h', payload: '"x"', from: 'app', pid: 9, rid: 5, trace: `00-${'c'.repeat(32)}-${'d'.repeat(16)}-01` });
    deliver({ clutch: 'deliver', action: 'h', payload: '"y"', from: 'app', pid: 9, rid: 6 });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(calls, ['out send a app', 'end a', 'out request b agent', 'end b', 'in request h cccc']);
    assert.deepEqual(
      sent.slice(2).map((s) => [s.clutch, (s as { payload?: string }).payload]),
      [
        ['reply', '"x"'],
        ['reply', '"y"'],
      ],
    );
  });
});
