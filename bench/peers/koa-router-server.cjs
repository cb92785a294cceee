// The second baseline: Koa's "Hello World" behind @koa/router, with the same routes the Clutch app has.
const Koa = require('koa');
const Router = require('@koa/router');

const app = new Koa();
const router = new Router();
router.get('/', (ctx) => {
  ctx.body = 'Hello World';
});
for (const path of ['/bench/rtt', '/bench/pingpong', '/bench/broadcast']) router.get(path, (ctx) => (ctx.body = 'n/a'));
// BENCH_ROUTES=n: the same n parametrized routes as the Clutch app.
for (let i = 0; i < Number(process.env.BENCH_ROUTES ?? 0); i++) {
  router.get(`/api/r${i}/:id`, (ctx) => {
    ctx.body = ctx.params.id;
  });
}
app.use(router.routes()).use(router.allowedMethods());
app.listen(Number(process.env.PORT));
