/**
 * How a worker comes to serve, in each scheduling mode, without forking: fake workers that record
 * what the broker sends them, a fake master, and real sockets on 127.0.0.1 for round-robin.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { ClusterErrorCode, type ListenConfig, type MasterMessage } from '@clutch/cluster';
import { ListenBroker, type ListenBrokerHost } from '../../packages/cluster/src/listen-broker.ts';
import type { RawHandle } from '../../packages/cluster/src/round-robin.ts';
import { reusePortSupported } from '../../packages/cluster/src/shared-sockets.ts';
import type { WorkerProcess } from '../../packages/cluster/src/worker-process.ts';
import { FakeWorker, settle } from '../helpers/fake-children.ts';

const LOCAL: ListenConfig = { hostname: '127.0.0.1', port: 0 };

/** A broker over a fake master: `serving` records who serves where, `stopping` is who a stop came for. */
function broker(options: { port?: number; reusePort?: boolean; scheduling?: 'rr' | 'os' } = {}) {
  const serving: Array<{ pid: number; url: string; admitted: boolean }> = [];
  const stopping = new Set<FakeWorker>();
  const slots = new Map<FakeWorker, number>();
  const host: ListenBrokerHost = {
    port: options.port,
    reusePort: options.reusePort,
    scheduling: () => options.scheduling ?? 'rr',
    sticky: () => false,
    slotOf: (w) => slots.get(w as unknown as FakeWorker) ?? 0,
    admits: (w) => !stopping.has(w as unknown as FakeWorker),
    serving: (w, where, admitted) => serving.push({ pid: w.pid, url: where.url, admitted }),
  };
  const b = new ListenBroker(host);
  brokers.push(b);
  const worker = (slot = 0) => {
    const w = new FakeWorker();
    w.serve();
    slots.set(w, slot);
    return w;
  };
  return { broker: b, serving, stopping, worker, as: (w: FakeWorker) => w as unknown as WorkerProcess };
}

const brokers: ListenBroker[] = [];
afterEach(() => {
  for (const b of brokers.splice(0)) b.closeAll();
});

const last = (w: FakeWorker): MasterMessage | undefined => w.process.sent.at(-1);
/** Resolves with the next message the broker sends `w`. */
const nextSent = (w: FakeWorker) => once(w.process, 'sent').then(([m]) => m as MasterMessage);

/** A raw handle as a worker's bind hands it over, counting its closes. */
function fakeSocket(): RawHandle & { closed: number } {
  return {
    closed: 0,
    close() {
      this.closed++;
    },
  };
}

describe('the listen broker', { timeout: 15_000 }, () => {
  it("round-robin: the master binds once, the CLI's --port wins over the config's, and a connection reaches the worker", async () => {
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const { port } = probe.address() as { port: number };
    probe.close();
    await once(probe, 'close');
    const { broker: b, serving, worker, as } = broker({ port });
    const w = worker();
    await b.listen(as(w), { hostname: '127.0.0.1', port: 1 });
    assert.deepEqual(last(w), { clutch: 'listening', address: { address: '127.0.0.1', port, family: 'IPv4' } });
    assert.deepEqual(serving, [{ pid: w.pid, url: `http://127.0.0.1:${port}`, admitted: true }]);
    assert.equal(b.inRotation(), 1);
    const handed = nextSent(w);
    const client = connect(port, '127.0.0.1');
    client.on('error', () => {});
    assert.deepEqual(await handed, { clutch: 'connection' });
    assert.equal(w.process.handles.length, 1);
    client.destroy();
  });

  it('round-robin: a TLS config serves https; a worker a stop came for listens, but is not in service', async () => {
    const { broker: b, serving, stopping, worker, as } = broker();
    const secure = worker();
    await b.listen(as(secure), { ...LOCAL, tls: { key: 'k.pem', cert: 'c.pem' } });
    assert.match(serving[0]!.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const late = worker();
    stopping.add(late);
    await b.listen(as(late), { ...LOCAL, tls: { key: 'k.pem', cert: 'c.pem' } });
    assert.equal(serving[1]!.admitted, false);
    assert.equal(b.inRotation(), 1, 'only the first is handed connections');
  });

  it('round-robin: a port in use is CLUTCH_ERR_CLUSTER_PORT_IN_USE to the worker, naming the port', async () => {
    const taken = createServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const { port } = taken.address() as { port: number };
    try {
      const { broker: b, serving, worker, as } = broker();
      const w = worker();
      await b.listen(as(w), { hostname: '127.0.0.1', port });
      const sent = last(w);
      assert.equal(sent?.clutch, 'listen-failed');
      assert.equal(sent.clutch === 'listen-failed' && sent.error.code, ClusterErrorCode.PORT_IN_USE);
      assert.match(sent.clutch === 'listen-failed' ? sent.error.message : '', new RegExp(`Port ${port}`));
      assert.deepEqual(serving, []);
    } finally {
      taken.close();
    }
  });

  it("'os': the first worker binds and hands its socket over; the next listens on the master's copy", async () => {
    const { broker: b, serving, worker, as } = broker({ scheduling: 'os' });
    const [first, second] = [worker(0), worker(1)];
    await b.listen(as(first), LOCAL);
    assert.deepEqual(last(first), { clutch: 'bind', listen: LOCAL });
    // Port 0: the second waits for the port the first one gets.
    const listening = b.listen(as(second), LOCAL);
    await settle();
    assert.equal(second.process.sent.length, 0, 'the second waits for the first bind');
    const socket = fakeSocket();
    const address = { address: '127.0.0.1', port: 4321, family: 'IPv4' as const };
    await b.bound(as(first), { clutch: 'bound', address }, socket);
    assert.deepEqual(last(first), { clutch: 'listening', address });
    await listening;
    assert.deepEqual(last(second), { clutch: 'listen-on' });
    assert.deepEqual(second.process.handles, [socket], "the master's copy of the first socket");
    assert.deepEqual(
      serving.map((s) => s.url),
      ['http://127.0.0.1:4321'],
    );
    b.closeAll();
    assert.equal(socket.closed, 1, 'the copy closes with the cluster');
  });

  it("'os': a failed bind is the worker's listen-failed; a worker that exits mid-bind holds nobody up", async () => {
    const { broker: b, worker, as } = broker({ scheduling: 'os' });
    const [failing, dying, next] = [worker(0), worker(1), worker(2)];
    await b.listen(as(failing), LOCAL);
    const afterFailure = b.listen(as(dying), LOCAL);
    await b.bound(as(failing), { clutch: 'bound', error: { name: 'Error', message: 'listen EACCES', code: 'EACCES' } }, undefined);
    assert.equal(last(failing)?.clutch, 'listen-failed');
    await afterFailure;
    assert.deepEqual(last(dying), { clutch: 'bind', listen: LOCAL }, 'the next one tries itself');
    const waiting = b.listen(as(next), LOCAL);
    b.exited(as(dying));
    await waiting;
    assert.deepEqual(last(next), { clutch: 'bind', listen: LOCAL });
  });

  it('reusePort: each slot binds a socket of its own on the first one’s port — or, where the platform lacks it, CLUTCH_ERR_CLUSTER_REUSEPORT_UNSUPPORTED', async () => {
    const { broker: b, worker, as } = broker({ reusePort: true });
    const [first, second] = [worker(0), worker(1)];
    if (reusePortSupported() === null) {
      assert.doesNotThrow(() => b.checkSupported());
      await b.listen(as(first), LOCAL);
      assert.deepEqual(last(first), { clutch: 'bind', listen: { ...LOCAL, reusePort: true } });
      const waiting = b.listen(as(second), LOCAL);
      await b.bound(as(first), { clutch: 'bound', address: { address: '127.0.0.1', port: 4321, family: 'IPv4' } }, fakeSocket());
      await waiting;
      assert.deepEqual(last(second), { clutch: 'bind', listen: { ...LOCAL, port: 4321, reusePort: true } });
    } else {
      assert.throws(() => b.checkSupported(), { code: ClusterErrorCode.REUSEPORT_UNSUPPORTED });
      await b.listen(as(first), LOCAL);
      const sent = last(first);
      assert.equal(sent?.clutch === 'listen-failed' && sent.error.code, ClusterErrorCode.REUSEPORT_UNSUPPORTED);
    }
  });
});
