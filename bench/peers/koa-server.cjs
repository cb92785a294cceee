// The baseline app: Koa's "Hello World", nothing else. Run by bare node:cluster and by pm2.
const Koa = require('koa');

const app = new Koa();
app.use((ctx) => {
  ctx.body = 'Hello World';
});
app.listen(Number(process.env.PORT));
