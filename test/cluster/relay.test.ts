/** The relay with fake process handles: routing, byte credits, refusals — no processes. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Logger, MasterMessage } from '@clutch/cluster';
import { Relay } from '../../packages/cluster/src/relay.ts';
import type { Peer } from '../../packages/cluster/src/child-handle.ts';

class FakeHandle implements Peer {
  state: Peer['state'] = 'booting';
  /** false: the channel is closed, and send() says so. */
  connected = true;
  readonly sent: MasterMessage[] = [];
  /** Write callbacks not run yet: a channel that has not taken the message. */
  readonly unwritten: Array<() => void> = [];
  readonly role: 'agent' | 'worker';
  readonly pid: number;
  constructor(role: 'agent' | 'worker', pid: number) {
    this.role = role;
    this.pid = pid;
  }
  send(message: MasterMessage, written?: (err: Error | null) => void): boolean {
    if (!this.connected) return false;
    this.sent.push(message);
    if (written) this.unwritten.push(() => written(null));
    return true;
  }
  /** The channel takes everything it was sent. */
  flush(): void {
    for (const cb of this.unwritten.splice(0)) cb();
  }
  /** Bytes given back to this process: in credit messages, or riding on deliveries. */
  credits(): number {
    return this.sent.flatMap((m) => ('credits' in m && m.credits ? m.credits : [])).reduce((n, [, b]) => n + b, 0);
  }
}

/** The child booted, as the master sees it: its state first, then the relay flushes what waited for it. */
function ready(relay: Relay, handle: FakeHandle): void {
  handle.state = 'ready';
  relay.markReady(handle);
}

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (m: string, ...a: unknown[]) => lines.push([m, ...a].join(' '));
  return { lines, debug: () => {}, info: log, warn: log, error: log };
}

/** Long enough for owed bytes that found no message to ride on to get one of their own (20 ms). */
const nextTurn = () => new Promise((r) => setTimeout(r, 40));

function cluster(maxPending = 100) {
  const logger = recordingLogger();
  const relay = new Relay({ maxPending, logger });
  const agent = new FakeHandle('agent', 100);
  const w1 = new FakeHandle('worker', 201);
  const w2 = new FakeHandle('worker', 202);
  relay.setAgent(agent);
  ready(relay, agent);
  relay.addWorker(w1);
  relay.addWorker(w2);
  relay.closeBacklog();
  return { relay, logger, agent, w1, w2 };
}

describe('relay', () => {
  it('delivers the payload untouched and gives the bytes back once every worker has taken its copy', async () => {
    const { relay, agent, w1, w2 } = cluster();
    ready(relay, w1);
    ready(relay, w2);
    relay.route(agent, { clutch: 'send', to: 'app', action: 'x', payload: '"hello"' });
    const delivered = w1.sent.find((m) => m.clutch === 'deliver');
    assert.deepEqual(delivered, { clutch: 'deliver', action: 'x', payload: '"hello"', from: 'agent', pid: 100 });
    w1.flush();
    await nextTurn();
    assert.equal(agent.credits(), 0, 'one copy is still being written');
    w2.flush();
    await nextTurn();
    assert.equal(agent.credits(), '"hello"'.length);
  });

  it('holds the bytes of a message for a worker that is not ready until it is delivered and written', async () => {
    const { relay, agent, w1 } = cluster();
    relay.route(agent, { clutch: 'send', to: w1.pid, action: 'x', payload: '[1,2,3]' });
    await nextTurn();
    assert.equal(agent.credits(), 0);
    ready(relay, w1);
    w1.flush();
    await nextTurn();
    assert.equal(agent.credits(), 7);
  });

  it('holds what the agent was sent until it acknowledges it, and replays it to the next agent', async () => {
    const { relay, agent, w1 } = cluster();
    ready(relay, w1);
    relay.route(w1, { clutch: 'send', to: 'agent', action: 'job', payload: '"abc"' });
    agent.flush();
    await nextTurn();
    assert.equal(w1.credits(), 0, 'written is not enough: the agent has not acknowledged it');
    agent.state = 'dead';
    relay.agentExited(agent);
    const next = new FakeHandle('agent', 101);
    relay.setAgent(next);
    ready(relay, next);
    const replayed = next.sent.find((m) => m.clutch === 'deliver') as Extract<MasterMessage, { clutch: 'deliver' }>;
    assert.equal(replayed.payload, '"abc"');
    relay.ack(next, replayed.seq!);
    await nextTurn();
    assert.equal(w1.credits(), 5);
  });

  it('gives back at once what it refuses, and logs a burst of refusals once', async () => {
    const { relay, logger, agent, w1 } = cluster(3);
    ready(relay, w1);
    // w2 is not ready: its queue takes 3, then refuses.
    for (let i = 0; i < 50; i++) relay.route(agent, { clutch: 'send', to: 202, action: 'x', payload: '1' });
    const refusals = agent.sent.filter((m) => m.clutch === 'undeliverable');
    assert.equal(refusals.length, 47, 'each refused send is reported to its sender');
    assert.ok(refusals.every((m) => m.error.code === 'CLUTCH_ERR_MESSENGER_QUEUE_FULL'));
    assert.equal(logger.lines.filter((l) => l.includes('undeliverable')).length, 1, 'logged once, not 47 times');
    await nextTurn();
    assert.equal(agent.credits(), 47);
  });

  it('owed bytes ride on the next message to the sender instead of a message of their own', async () => {
    const { relay, agent, w1 } = cluster();
    ready(relay, w1);
    relay.route(w1, { clutch: 'send', to: 'agent', action: 'ask', payload: '"q"', rid: 1 });
    const asked = agent.sent.find((m) => m.clutch === 'deliver') as Extract<MasterMessage, { clutch: 'deliver' }>;
    relay.ack(agent, asked.seq!);
    relay.reply(agent, { clutch: 'reply', to: w1.pid, rid: 1, payload: '"a"' });
    const reply = w1.sent.find((m) => m.clutch === 'reply') as Extract<MasterMessage, { clutch: 'reply' }>;
    assert.deepEqual(reply.credits, [['agent', 3]], 'the bytes of the request ride on its reply');
    await nextTurn();
    assert.equal(w1.sent.filter((m) => m.clutch === 'credit').length, 0, 'no credit message of its own');
  });

  it('gives the bytes back once, even when a copy cannot be sent at all', async () => {
    const { relay, agent, w1, w2 } = cluster();
    ready(relay, w1);
    ready(relay, w2);
    w1.connected = false; // its exit is not handled yet
    relay.route(agent, { clutch: 'send', to: 'app', action: 'x', payload: '"1000"', size: 1000 });
    w2.flush();
    await nextTurn();
    assert.equal(agent.credits(), 1000, 'once, not twice');
  });

  it('gives back the bytes of writes a dead worker never completed (Node drops them with the channel)', async () => {
    const { relay, agent, w1 } = cluster();
    ready(relay, w1);
    for (let i = 0; i < 5; i++) relay.route(agent, { clutch: 'send', to: w1.pid, action: 'x', payload: '"abc"', size: 5 });
    await nextTurn();
    assert.equal(agent.credits(), 0, 'nothing written yet');
    w1.state = 'dead';
    relay.removeWorker(w1);
    w1.flush(); // a late callback must not count twice
    await nextTurn();
    assert.equal(agent.credits(), 25);
  });

  it('refuses a message when every message together would hold too much of the master', async () => {
    const { relay, agent, w1 } = cluster(1_000);
    // w1 is not ready: everything waits in the master.
    const mb = 1024 * 1024;
    for (let i = 0; i < 256; i++) relay.route(agent, { clutch: 'send', to: w1.pid, action: 'x', payload: '"."', size: mb });
    relay.route(agent, { clutch: 'send', to: w1.pid, action: 'x', payload: '"."', size: mb });
    const refused = agent.sent.filter((m): m is Extract<MasterMessage, { clutch: 'undeliverable' }> => m.clutch === 'undeliverable');
    assert.equal(refused.length, 1);
    assert.equal(refused[0]!.error.code, 'CLUTCH_ERR_MESSENGER_QUEUE_FULL');
  });

  it('an unknown pid is undeliverable with its own code', () => {
    const { relay, agent } = cluster();
    relay.route(agent, { clutch: 'send', to: 999, action: 'x' });
    const m = agent.sent.find((s) => s.clutch === 'undeliverable') as Extract<MasterMessage, { clutch: 'undeliverable' }>;
    assert.equal(m.error.code, 'CLUTCH_ERR_MESSENGER_UNKNOWN_TARGET');
  });
});

describe('relay: what a death does to messages in flight', () => {
  it('a message two agents in a row died holding is dropped, and its sender told (CLUTCH_ERR_MESSENGER_DROPPED)', () => {
    const { relay, agent, w1 } = cluster();
    ready(relay, w1);
    relay.route(w1, { clutch: 'send', to: 'agent', action: 'poison' });
    agent.state = 'dead';
    relay.agentExited(agent);
    const second = new FakeHandle('agent', 101);
    relay.setAgent(second);
    ready(relay, second);
    assert.equal(second.sent.filter((m) => m.clutch === 'deliver').length, 1, 'replayed once');
    second.state = 'dead';
    relay.agentExited(second);
    const third = new FakeHandle('agent', 102);
    relay.setAgent(third);
    ready(relay, third);
    assert.equal(third.sent.filter((m) => m.clutch === 'deliver').length, 0, 'not replayed again');
    const told = w1.sent.find((m) => m.clutch === 'undeliverable') as Extract<MasterMessage, { clutch: 'undeliverable' }>;
    assert.equal(told.error.code, 'CLUTCH_ERR_MESSENGER_DROPPED');
  });

  it('a request to a worker that exits before answering rejects at once (CLUTCH_ERR_MESSENGER_TARGET_EXITED)', () => {
    const { relay, agent, w1 } = cluster();
    ready(relay, w1);
    relay.route(agent, { clutch: 'send', to: w1.pid, action: 'ask', rid: 7 });
    w1.state = 'dead';
    relay.removeWorker(w1);
    const told = agent.sent.find((m) => m.clutch === 'undeliverable') as Extract<MasterMessage, { clutch: 'undeliverable' }>;
    assert.equal(told.rid, 7);
    assert.equal(told.error.code, 'CLUTCH_ERR_MESSENGER_TARGET_EXITED');
  });
});
