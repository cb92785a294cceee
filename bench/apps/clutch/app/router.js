// The benchmark's Clutch app: "Hello World", plus routes that time the messenger from a worker.
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
const summary = (samples) => {
  const sorted = samples.sort((a, b) => a - b);
  return { n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
};

export default (app) => {
  app.router.get('/', (ctx) => {
    ctx.body = 'Hello World';
  });

  // BENCH_ROUTES=n: n parametrized routes more, for the routing rows (a different :id each request).
  for (let i = 0; i < Number(process.env.BENCH_ROUTES ?? 0); i++) {
    app.router.get(`/api/r${i}/:id`, (ctx) => {
      ctx.body = ctx.params.id;
    });
  }

  // request() to the agent and back, n times in a row: microseconds per round trip.
  app.router.get('/bench/rtt', async (ctx) => {
    const n = Number(ctx.query.n ?? 2000);
    const samples = [];
    for (let i = 0; i < n; i++) {
      const t = process.hrtime.bigint();
      await app.messenger.request('agent', 'ping', null);
      samples.push(Number(process.hrtime.bigint() - t) / 1000);
    }
    ctx.body = summary(samples);
  });

  // The same round trip built from plain messages (what egg's messenger offers).
  app.router.get('/bench/pingpong', async (ctx) => {
    const n = Number(ctx.query.n ?? 2000);
    const samples = [];
    for (let i = 0; i < n; i++) {
      const t = process.hrtime.bigint();
      await new Promise((resolve) => {
        app.messenger.once('pong', resolve);
        app.messenger.sendToAgent('ping-msg', { pid: process.pid });
      });
      samples.push(Number(process.hrtime.bigint() - t) / 1000);
    }
    ctx.body = summary(samples);
  });

  // The agent sends this worker n messages of ?size= bytes; resolves when it has all of them.
  app.router.get('/bench/stream', async (ctx) => {
    const n = Number(ctx.query.n ?? 1000);
    const size = Number(ctx.query.size ?? 1024);
    ctx.body = await app.messenger.request('agent', 'stream', { n, size, pid: process.pid }, { timeout: 120_000 });
  });

  // The agent sends n messages to every worker; resolves when all workers have all of them.
  app.router.get('/bench/broadcast', async (ctx) => {
    const n = Number(ctx.query.n ?? 50000);
    ctx.body = await app.messenger.request('agent', 'broadcast', { n, workers: app.messenger.pids.workers.length }, { timeout: 120_000 });
  });
};
