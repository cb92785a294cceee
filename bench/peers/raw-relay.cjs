// The messenger's baseline: a raw relay over node:cluster IPC — a primary that forwards plain
// process.send messages between an "agent" child and two HTTP workers, with no framework, no
// checks, no queues. The same measurements as the Clutch app: a request/reply round trip from a
// worker to the agent, a broadcast of n messages from the agent to every worker, and a stream of n
// messages of one size from the agent to one worker.
const cluster = require('node:cluster');
const { fork } = require('node:child_process');
const http = require('node:http');

const summary = (samples) => {
  const sorted = samples.sort((a, b) => a - b);
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
  return { n: sorted.length, p50: at(50), p99: at(99) };
};

if (process.env.RAW_ROLE === 'agent') {
  let pending = null;
  process.on('message', (m) => {
    if (m.t === 'ping') process.send({ t: 'pong', to: m.from, id: m.id });
    else if (m.t === 's-done' && pending) {
      const ms = Date.now() - pending.began;
      const { n, size, from } = pending;
      process.send({
        t: 'stream-done',
        to: from,
        result: { n, size, ms, perSecond: Math.round((n / ms) * 1000), mbPerSecond: Math.round((n * size) / 1024 / 1024 / (ms / 1000)) },
      });
      pending = null;
    } else if (m.t === 'stream') {
      pending = { began: Date.now(), n: m.n, size: m.size, from: m.from };
      const data = 'x'.repeat(m.size);
      process.send({ t: 's-start', to: m.from, n: m.n });
      for (let i = 0; i < m.n; i++) process.send({ t: 's', to: m.from, data });
    } else if (m.t === 'b-done' && pending && --pending.left === 0) {
      const ms = Date.now() - pending.began;
      process.send({ t: 'broadcast-done', to: pending.from, result: { n: pending.n, ms, perSecond: Math.round((pending.n / ms) * 1000) } });
      pending = null;
    } else if (m.t === 'broadcast') {
      pending = { left: m.workers, began: Date.now(), n: m.n, from: m.from };
      process.send({ t: 'b-start', to: 'all', n: m.n });
      for (let i = 0; i < m.n; i++) process.send({ t: 'b', to: 'all', i });
    }
  });
} else if (cluster.isPrimary) {
  const agent = fork(__filename, [], { env: { ...process.env, RAW_ROLE: 'agent' } });
  const workers = new Map();
  for (let i = 0; i < 2; i++) {
    const w = cluster.fork();
    workers.set(w.process.pid, w);
    w.on('message', (m) => agent.send({ ...m, from: w.process.pid }));
  }
  agent.on('message', (m) => {
    if (m.to === 'all') for (const w of workers.values()) w.send(m);
    else workers.get(m.to)?.send(m);
  });
  process.on('SIGTERM', () => {
    agent.kill('SIGTERM');
    for (const w of workers.values()) w.kill('SIGTERM');
    process.exit(0);
  });
} else {
  let nextId = 1;
  const waiting = new Map();
  let count = 0;
  let target = 0;
  let streamed = 0;
  let streamTarget = 0;
  process.on('message', (m) => {
    if (m.t === 'pong' || m.t === 'broadcast-done' || m.t === 'stream-done') {
      waiting.get(m.id ?? (m.t === 'stream-done' ? 'stream' : 'broadcast'))?.(m.result);
    } else if (m.t === 's-start') {
      streamed = 0;
      streamTarget = m.n;
    } else if (m.t === 's' && ++streamed === streamTarget) {
      process.send({ t: 's-done' });
    } else if (m.t === 'b-start') {
      count = 0;
      target = m.n;
    } else if (m.t === 'b' && ++count === target) {
      process.send({ t: 'b-done' });
    }
  });
  const ask = (message, key) =>
    new Promise((resolve) => {
      waiting.set(key, (r) => {
        waiting.delete(key);
        resolve(r);
      });
      process.send(message);
    });
  http
    .createServer(async (req, res) => {
      const url = new URL(req.url, 'http://x');
      const n = Number(url.searchParams.get('n') ?? 3000);
      if (url.pathname === '/bench/rtt') {
        const samples = [];
        for (let i = 0; i < n; i++) {
          const t = process.hrtime.bigint();
          const id = nextId++;
          await ask({ t: 'ping', id }, id);
          samples.push(Number(process.hrtime.bigint() - t) / 1000);
        }
        res.end(JSON.stringify(summary(samples)));
      } else if (url.pathname === '/bench/stream') {
        res.end(JSON.stringify(await ask({ t: 'stream', n, size: Number(url.searchParams.get('size') ?? 1024) }, 'stream')));
      } else if (url.pathname === '/bench/broadcast') {
        res.end(JSON.stringify(await ask({ t: 'broadcast', n, workers: 2 }, 'broadcast')));
      } else {
        res.end('Hello World');
      }
    })
    .listen(Number(process.env.PORT));
}
