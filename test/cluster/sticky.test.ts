/**
 * Sticky sessions on the real `app start` with 2 workers: plain HTTP connections from distinct
 * loopback source addresses (127.0.0.x), then socket.io-client through the sticky workers — polling,
 * the upgrade to WebSocket, a reload with clients connected — and socket.io's polling without
 * sticky, which is why sticky exists.
 */
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { io, type Socket } from 'socket.io-client';
import type { ClusterReadyInfo } from '@clutch/cluster';
import { stickySlot } from '../../packages/cluster/src/sticky.ts';
import { runApp, startFixture, statusOf, type AppProcess } from '../helpers/cluster.ts';

/** GET / on a connection of its own from `localAddress`: the pid of the worker that served it. */
function pidFrom(url: string, localAddress: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/`, { localAddress, agent: false, headers: { connection: 'close' }, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => (body += s));
      res.on('end', () => {
        const { pid, from } = JSON.parse(body) as { pid: number; from: string };
        if (!from.endsWith(localAddress)) reject(new Error(`served as from ${from}, not ${localAddress}`));
        else resolve(pid);
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET / from ${localAddress} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** The slot of each worker pid, as `app status` shows it. */
async function slotsOf(app: AppProcess): Promise<Map<number, number>> {
  const status = await statusOf(app);
  assert.ok(status, 'app status answered');
  return new Map(status.workers.map((w) => [w.pid, w.slot]));
}

async function reload(app: AppProcess): Promise<void> {
  const args = app.child.spawnargs;
  const r = await runApp(['reload', args[args.indexOf('start') + 1]!, '--title', args[args.indexOf('--title') + 1]!], 40_000);
  assert.equal(r.code, 0, r.stderr);
}

/** Resolves once `cond` holds, checking on each event of `emitter`'s kinds; rejects past `ms`. */
function until(cond: () => boolean, ms: number, what: string, wake: (check: () => void) => () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let stop = () => {};
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`timed out after ${ms} ms waiting until ${what}`));
    }, ms);
    const check = () => {
      if (!cond()) return;
      clearTimeout(timer);
      stop();
      resolve();
    };
    stop = wake(check);
    check();
  });
}

interface Echo {
  n: number;
  pid: number;
  transport: string;
  /** The transport the socket connected over. */
  connectedOver: string;
}

/** Resolves once the socket is connected; rejects with its connect_error. */
function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
}

/** A socket.io client from `localAddress`: every HTTP request of its polling on a connection of its own, so each one is a pick of the master's. */
function client(url: string, localAddress: string, options: { reconnect?: boolean; polling?: boolean } = {}): Socket {
  return io(url, {
    agent: new Agent({ localAddress, keepAlive: false }) as unknown as string,
    localAddress,
    forceNew: true,
    transports: options.polling ? ['polling'] : ['polling', 'websocket'],
    reconnectionDelay: 100,
    reconnectionDelayMax: 500,
    reconnection: options.reconnect !== false,
    // At least once: an emit whose ack did not come (its connection closed under it) is sent again.
    retries: 30,
    ackTimeout: 1_000,
  } as Parameters<typeof io>[1]);
}

const LOOPBACK = Array.from({ length: 60 }, (_, i) => `127.0.0.${i + 2}`);
/** `n` addresses of each of the two slots. */
const spread = (n: number, from = 0) => {
  const pool = LOOPBACK.slice(from);
  return [...pool.filter((a) => stickySlot(a, [0, 1]) === 0).slice(0, n), ...pool.filter((a) => stickySlot(a, [0, 1]) === 1).slice(0, n)];
};

describe('sticky sessions: one client address, one worker slot', { timeout: 120_000 }, () => {
  let app: AppProcess;
  let info: ClusterReadyInfo;
  const sockets: Socket[] = [];
  const started: AppProcess[] = [];
  before(async () => {
    ({ app, info } = await startFixture('sticky', ['--workers', '2']));
    started.push(app);
  });
  after(() => {
    for (const s of sockets) s.disconnect();
    for (const a of started) a.kill();
  });

  it('HTTP connections from one address land on one worker, that of its slot; after app reload, on its successor', async () => {
    const addresses = spread(4);
    const before = new Map<string, number>();
    for (const address of addresses) {
      const pids = [await pidFrom(info.url, address), await pidFrom(info.url, address), await pidFrom(info.url, address)];
      assert.equal(new Set(pids).size, 1, `${address} was served by ${pids.join(', ')}`);
      before.set(address, pids[0]!);
    }
    const slots = await slotsOf(app);
    assert.equal(new Set(before.values()).size, 2, 'both workers serve');
    for (const [address, pid] of before) assert.equal(slots.get(pid), stickySlot(address, [0, 1]), `${address} is served in its slot`);

    await reload(app);
    const slotsAfter = await slotsOf(app);
    for (const address of addresses) {
      const pids = [await pidFrom(info.url, address), await pidFrom(info.url, address)];
      assert.equal(new Set(pids).size, 1, `${address} was served by ${pids.join(', ')} after the reload`);
      assert.ok(!slots.has(pids[0]!), `${address} is served by a new worker`);
      assert.equal(slotsAfter.get(pids[0]!), slots.get(before.get(address)!), `${address} is served by the successor of its slot`);
    }
  });

  it('socket.io through 2 sticky workers: connect, emit and ack over polling, then over WebSocket after the upgrade', async () => {
    const results = await Promise.all(
      spread(2, 10).map(async (address) => {
        // Polling alone first: the handshake, each poll and each emit on a connection of its own, all to one worker.
        const polling = client(info.url, address, { polling: true });
        sockets.push(polling);
        await connected(polling);
        const polled: Echo[] = [];
        for (let n = 0; n < 3; n++) polled.push((await polling.emitWithAck('echo', n)) as Echo);
        polling.disconnect();
        // Then as a browser does: connected over polling, upgraded to WebSocket.
        const upgrading = client(info.url, address);
        sockets.push(upgrading);
        const upgraded = new Promise<string>((resolve) => upgrading.io.engine.once('upgrade', (t: { name: string }) => resolve(t.name)));
        await connected(upgrading);
        assert.equal(await upgraded, 'websocket');
        return { polled, ws: (await upgrading.emitWithAck('echo', 3)) as Echo };
      }),
    );
    for (const { polled, ws } of results) {
      assert.deepEqual(
        polled.map((e) => e.transport),
        ['polling', 'polling', 'polling'],
      );
      assert.equal(new Set(polled.map((e) => e.pid)).size, 1);
      assert.equal(ws.connectedOver, 'polling');
      assert.equal(ws.transport, 'websocket');
      assert.equal(ws.pid, polled[0]!.pid, 'the same address, the same worker, over either transport');
    }
    assert.equal(new Set(results.map((r) => r.ws.pid)).size, 2, 'clients on both workers');
  });

  it('a reload with clients connected: every client reconnects, to its slot’s successor, and every emit is acknowledged', async (t) => {
    const slots = await slotsOf(app);
    const clients = spread(3, 20).map((address) => {
      const socket = client(info.url, address);
      sockets.push(socket);
      return { address, socket, connects: 0, acked: [] as Echo[], failed: [] as unknown[], sent: 0, slowest: 0, running: true, done: Promise.resolve() };
    });
    const wakers = new Set<() => void>();
    const wake = (check: () => void) => {
      wakers.add(check);
      return () => wakers.delete(check);
    };
    const changed = () => {
      for (const w of [...wakers]) w();
    };
    for (const c of clients) {
      c.socket.on('connect', () => {
        c.connects++;
        changed();
      });
      // One emit at a time, paced, each either acknowledged or an error — never nothing.
      c.done = (async () => {
        while (c.running) {
          const n = c.sent++;
          try {
            const began = Date.now();
            c.acked.push((await c.socket.emitWithAck('echo', n)) as Echo);
            c.slowest = Math.max(c.slowest, Date.now() - began);
          } catch (err) {
            c.failed.push(err);
          }
          changed();
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
    }
    await until(() => clients.every((c) => c.acked.length >= 5), 20_000, 'every client has 5 acks', wake);
    const served = new Map(clients.map((c) => [c.address, c.acked[0]!.pid]));
    assert.equal(new Set(served.values()).size, 2, 'clients on both workers');

    await reload(app);
    const slotsAfter = await slotsOf(app);
    const newest = (c: (typeof clients)[number]) => c.acked.at(-1)?.pid ?? 0;
    await until(() => clients.every((c) => c.connects >= 2 && slotsAfter.has(newest(c))), 30_000, 'every client acked by a new worker', wake);
    const mark = clients.map((c) => c.acked.length);
    await until(() => clients.every((c, i) => c.acked.length >= mark[i]! + 5), 20_000, 'five more acks each', wake);
    for (const c of clients) c.running = false;
    await Promise.all(clients.map((c) => c.done));

    t.diagnostic(
      `${clients.reduce((n, c) => n + c.sent, 0)} emits from ${clients.length} clients, each acknowledged; ` +
        `the slowest ack across the reload took ${Math.max(...clients.map((c) => c.slowest))} ms`,
    );
    for (const c of clients) {
      assert.deepEqual(c.failed, [], `${c.address}: no emit failed`);
      const acked = new Set(c.acked.map((e) => e.n));
      for (let n = 0; n < c.sent; n++) assert.ok(acked.has(n), `${c.address}: emit ${n} was acknowledged`);
      assert.equal(slotsAfter.get(newest(c)), slots.get(served.get(c.address)!), `${c.address} came back to its slot`);
    }
  });

  it('a worker killed: its addresses go to the other slot meanwhile, never refused, then to its successor; the other slot’s stay', async (t) => {
    const slots = await slotsOf(app);
    const pidOf = (slot: number) => [...slots].find(([, s]) => s === slot)![0];
    const [victim, survivor] = [pidOf(1), pidOf(0)];
    const [ones, zeros] = [LOOPBACK.filter((a) => stickySlot(a, [0, 1]) === 1).slice(0, 3), LOOPBACK.filter((a) => stickySlot(a, [0, 1]) === 0).slice(0, 3)];
    process.kill(victim, 'SIGKILL');
    // Once the master knows: a connection accepted in the instant between the death and the master
    // reading it is written to the dead worker's channel and reset (Node reports that write as done).
    await app.waitForLine(new RegExp(`worker ${victim} exited`), 5_000);
    const seen: number[] = [];
    const deadline = Date.now() + 20_000;
    let successor = 0;
    while (!successor) {
      assert.ok(Date.now() < deadline, `no successor served slot 1 within 20 s; served by ${[...new Set(seen)].join(', ')}`);
      for (const address of ones) {
        const pid = await pidFrom(info.url, address);
        seen.push(pid);
        if (pid !== survivor) successor = pid;
      }
    }
    const fallback = seen.filter((p) => p === survivor).length;
    t.diagnostic(`${fallback} of ${seen.length} requests from slot 1's addresses were served by slot 0 until the successor listened`);
    assert.ok(fallback > 0, 'while slot 1 had no worker, slot 0 served its addresses');
    assert.equal((await slotsOf(app)).get(successor), 1, 'the new worker is in slot 1');
    for (const address of ones) assert.equal(await pidFrom(info.url, address), successor, `${address} is back in slot 1`);
    for (const address of zeros) assert.equal(await pidFrom(info.url, address), survivor, `${address} never moved`);
  });

  it('without sticky, socket.io polling fails: the next request of the session reaches the other worker', async (t) => {
    const plain = await startFixture('sticky', ['--workers', '2'], { env: { STICKY: '0' } });
    started.push(plain.app);
    const without = client(plain.info.url, spread(1, 40)[0]!, { polling: true, reconnect: false });
    sockets.push(without);
    const outcome = await new Promise<string>((resolve) => {
      without.once('connect', () => resolve('connected'));
      without.once('connect_error', (err: Error & { description?: unknown }) => resolve(`connect_error: ${err.message} (${String(err.description)})`));
    });
    t.diagnostic(outcome);
    // engine.io answers 400 (Session ID unknown) to a request whose session another worker holds.
    assert.match(outcome, /^connect_error: xhr (post|poll) error \(400\)/);
  });

  it("sticky with scheduling 'os' fails the start with CLUTCH_ERR_CLUSTER_STICKY_UNSUPPORTED, from the config or from --sticky", async () => {
    const title = `sticky-os-${process.pid}`;
    const base = ['start', startedDir(app), '--port', '0', '--workers', '1', '--scheduling', 'os', '--title', title];
    // The project's cluster.sticky: known once the agent read it, so the worker's listen fails.
    const fromConfig = await runApp(base, 20_000);
    assert.notEqual(fromConfig.code, 0);
    assert.match(fromConfig.stderr, /scheduling 'os'.*\[CLUTCH_ERR_CLUSTER_STICKY_UNSUPPORTED\]/);
    // --sticky over a config that leaves it off: refused before anything is forked.
    const fromFlag = await runApp([...base, '--sticky'], 20_000, { STICKY: '0' });
    assert.notEqual(fromFlag.code, 0);
    assert.match(fromFlag.stderr, /\[CLUTCH_ERR_CLUSTER_STICKY_UNSUPPORTED\].*scheduling 'os'/);
    assert.doesNotMatch(fromFlag.stderr, /worker:\d+/, 'no worker was forked');
  });
});

/** The project directory a running cluster was started from. */
function startedDir(app: AppProcess): string {
  const args = app.child.spawnargs;
  return args[args.indexOf('start') + 1]!;
}
