/**
 * A worker's HTTP server draining for a reload, on real sockets and without a cluster: keep-alive
 * connections that are idle when the drain begins are not closed by the worker, so a client that
 * sends on one just then is served (with `Connection: close`), not reset.
 */
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { DrainableServer } from '../../packages/cluster/src/child/http-server.ts';

/** The client's own idle limit is the server's `Keep-Alive: timeout` hint less a second (Node's Agent). */
const KEEP_ALIVE_MS = 3_000;

function get(port: number, agent: Agent): Promise<{ status: number; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      res.resume();
      res.once('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
    });
    req.once('error', reject);
    req.setTimeout(5_000, () => req.destroy(new Error('no answer within 5 s')));
    req.end();
  });
}

/**
 * A raw connection, for what Node's Agent never does (stay silent, or stay past the hint); with
 * `send`, it resolves once the answer has begun to arrive.
 */
function rawConnection(port: number, send?: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => (send ? socket.write(send) : resolve(socket)));
    socket.once('error', reject);
    if (send) socket.once('data', () => resolve(socket));
    socket.resume();
  });
}

const closed = (socket: Socket) => new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));

describe('a reload drain and idle keep-alive connections', { timeout: 20_000 }, () => {
  const cleanup: Array<() => void> = [];
  after(() => {
    for (const c of cleanup) c();
  });

  it('serves every request sent on an idle connection after the drain began, closes none itself before keepAliveTimeout, and ends once all are closed', async () => {
    const drainable = new DrainableServer((_req, res) => res.end('ok'), { keepAliveTimeout: KEEP_ALIVE_MS });
    const { address } = await drainable.bind({ hostname: '127.0.0.1', port: 0 });
    const port = address.port!;
    // On a failure too: the connections go first, or the closed server would keep the test alive.
    cleanup.push(() => {
      if ('closeAllConnections' in drainable.server) drainable.server.closeAllConnections();
      drainable.server.close();
    });
    const clients = Array.from({ length: 120 }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
    cleanup.push(() => clients.forEach((a) => a.destroy()));
    // Every client has served a request: its connection is idle, in its agent's pool.
    for (const first of await Promise.all(clients.map((a) => get(port, a)))) assert.equal(first.status, 200);
    // Two connections that a client keeps past the hint: one served (closed by Node's keep-alive
    // timer), one handed over that never sent a request (closed by the drain's sweep).
    const silent = await rawConnection(port);
    const served = await rawConnection(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    cleanup.push(() => [served, silent].forEach((c) => c.destroy()));

    const began = Date.now();
    const drained = drainable.drain('reload', 10_000).then(() => Date.now() - began);
    // The next requests come spread over 1.5 s from the drain's start: across the second at which
    // a fixed grace period used to close idle connections.
    const second = await Promise.allSettled(
      clients.map(async (agent, i) => {
        await new Promise((r) => setTimeout(r, (i * 1_500) / clients.length));
        return get(port, agent);
      }),
    );
    const failed = second.filter((s) => s.status === 'rejected').map((s) => String(s.reason));
    assert.deepEqual(failed, [], 'no request on an idle connection failed');
    for (const s of second) assert.deepEqual((s as PromiseFulfilledResult<unknown>).value, { status: 200, connection: 'close' });

    await Promise.all([closed(served), closed(silent)]);
    const ms = await drained;
    assert.ok(ms >= KEEP_ALIVE_MS - 100, `the idle connections were left to keepAliveTimeout, not closed before it (drained in ${ms} ms)`);
    assert.ok(ms < KEEP_ALIVE_MS + 1_500, `the drain ended soon after keepAliveTimeout (${ms} ms)`);
  });
});
