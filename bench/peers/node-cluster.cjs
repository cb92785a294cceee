// Bare node:cluster: a primary and two Koa workers — the baseline (SERVER picks the worker's app).
const cluster = require('node:cluster');

if (cluster.isPrimary) {
  for (let i = 0; i < Number(process.env.WORKERS || 2); i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers)) w.kill('SIGTERM');
    process.exit(0);
  });
} else {
  require(process.env.SERVER === 'router' ? './koa-router-server.cjs' : './koa-server.cjs');
}
