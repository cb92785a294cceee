/** What the master accepts from a child, message by message. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkChildMessage } from '../../packages/cluster/src/protocol-check.ts';
import { isMessageTarget } from '../../packages/cluster/src/protocol.ts';

describe('checkChildMessage', () => {
  const ok = [
    { clutch: 'ready' },
    { clutch: 'ready', settings: { drainDelay: 100 } },
    { clutch: 'send', to: 'agent', action: 'x' },
    { clutch: 'send', to: 123, action: 'x', payload: '{}', size: 2, rid: 4, ack: 9 },
    { clutch: 'reply', to: 12, rid: 1, payload: '1' },
    { clutch: 'reply', to: 12, rid: 1, error: { name: 'Error', message: 'no' } },
    { clutch: 'ack', seq: 3 },
    { clutch: 'barrier', id: 1 },
    { clutch: 'listen', listen: { port: 0, hostname: '127.0.0.1' } },
    { clutch: 'log-health', dropped: 3, error: 'ENOSPC: no space' },
    { clutch: 'heartbeat', cpu: { user: 1, system: 1 }, rss: 10, heapUsed: 1, heapTotal: 2, loop: { mean: 0, p99: 0, max: 0 } },
    { clutch: 'metrics', id: 1, metrics: null },
    { clutch: 'leaving' },
    { clutch: 'leader', leading: true, token: 3, store: 'postgres', transitions: 1 },
    { clutch: 'bound', address: { address: '::', port: 1, family: 'IPv6' } },
  ];
  for (const message of ok) it(`accepts ${JSON.stringify(message).slice(0, 60)}`, () => assert.equal(checkChildMessage(message), null));

  const bad: Array<[unknown, RegExp]> = [
    ['text', /not an object/],
    [null, /not an object/],
    [{ clutch: 'bogus' }, /unknown message type "bogus"/],
    [{ clutch: 'send', to: 'nowhere', action: 'x' }, /unknown target/],
    [{ clutch: 'send', to: 'agent', action: '' }, /without an action/],
    [{ clutch: 'send', to: 'agent', action: 'x', payload: { a: 1 } }, /not JSON text/],
    [{ clutch: 'send', to: 'agent', action: 'x', rid: -1 }, /bad request id/],
    [{ clutch: 'reply', to: 'agent', rid: 1 }, /without a target pid/],
    [{ clutch: 'reply', to: 1, rid: 0 }, /bad request id/],
    [{ clutch: 'ack', seq: 'x' }, /bad sequence number/],
    [{ clutch: 'listen', listen: { port: 70_000 } }, /bad port/],
    [{ clutch: 'log-health', dropped: 'many' }, /bad counts/],
    [{ clutch: 'heartbeat', rss: 1 }, /without its figures/],
    [{ clutch: 'bound' }, /without an address or an error/],
  ];
  for (const [message, reason] of bad) it(`refuses ${JSON.stringify(message)}`, () => assert.match(checkChildMessage(message) ?? '', reason));

  it('targets: the four names and positive integer pids', () => {
    for (const t of ['agent', 'app', 'all', 'random', 1, 99999]) assert.equal(isMessageTarget(t), true);
    for (const t of ['workers', 0, -1, 1.5, '12', null]) assert.equal(isMessageTarget(t), false);
  });
});
