// egg 4 in cluster mode, as egg-scripts would start it: startCluster with two workers.
const { dirname, join } = require('node:path');
const { startCluster } = require('egg');

startCluster({
  baseDir: join(__dirname, '..', 'apps', 'egg'),
  // egg looks for itself from the working directory; the bench may run from the repository root.
  framework: dirname(require.resolve('egg/package.json')),
  workers: Number(process.env.WORKERS || 2),
  port: Number(process.env.PORT),
  env: 'prod',
});
