import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, describe, it } from 'node:test';
import { startFixture, type AppProcess } from '../helpers/cluster.ts';
import { getJson } from '../helpers/http.ts';

const portOf = (url: string) => Number(new URL(url).port);

/** Starts a JSON POST that announces `length` bytes, sends a few, and hangs up. */
function truncatedPost(port: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"a":');
      setTimeout(() => socket.destroy(), 20);
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve());
  });
}

/** Announces a 200 MB JSON body and keeps sending it; resolves with the status line and how much the server let it send. */
function hugeUpload(port: number): Promise<{ status: string; sentMB: number }> {
  return new Promise((resolve) => {
    const total = 200 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 32);
    let sent = 0;
    let status = '';
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${total}\r\n\r\n`);
      // The client is busy for a while before it goes on writing, as a loaded one may: the answer
      // and the server's close arrive meanwhile, and it writes before it reads. A server that
      // closes at once with the body unread answers those writes with a RST; the client's socket
      // fails with the answer unread, and it sees a reset instead of the 413.
      const until = Date.now() + 300;
      while (Date.now() < until);
      const pump = () => {
        while (sent < total && !socket.destroyed) {
          sent += chunk.length;
          if (!socket.write(chunk)) {
            socket.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
    let head = '';
    socket.on('data', (d: Buffer) => {
      head += d.toString('latin1');
      status ||= head.includes('\r\n') ? head.slice(0, head.indexOf('\r\n')) : '';
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve({ status, sentMB: sent / 1024 / 1024 }));
    setTimeout(() => socket.destroy(), 20_000).unref();
  });
}

describe('clients cannot make a worker read or log without bound', { timeout: 60_000 }, () => {
  const started: AppProcess[] = [];
  after(() => {
    for (const app of started) app.kill();
  });

  it('200 truncated bodies and disconnects log a bounded number of stacks; the worker keeps serving', async () => {
    const { app, info } = await startFixture('faults', ['--workers', '1']);
    started.push(app);
    const port = portOf(info.url);
    for (let i = 0; i < 10; i++) await Promise.all(Array.from({ length: 20 }, () => truncatedPost(port)));
    assert.equal((await getJson(`${info.url}/`)).status, 200);
    const logged = app.stderr.split('\n').filter((l) => /request failed/.test(l)).length;
    assert.ok(logged >= 1, 'the first ones are logged');
    assert.ok(logged <= 20, `${logged} of 200 were logged in full`);
  });

  it('a 200 MB upload announced in Content-Length gets its 413 without the worker reading it, also when the client writes before it reads', async () => {
    const { app, info } = await startFixture('faults', ['--workers', '1']);
    started.push(app);
    const { status, sentMB } = await hugeUpload(portOf(info.url));
    assert.equal(status, 'HTTP/1.1 413 Payload Too Large');
    assert.ok(sentMB < 32, `the client could send ${sentMB.toFixed(1)} MB before the connection closed`);
    assert.equal((await getJson(`${info.url}/`)).status, 200);
  });
});
