// A session of a realistic size: a user id, a role, a CSRF-ish token and a counter.
export default (app) => {
  app.router.get('/', (ctx) => {
    ctx.body = 'ok';
  });
  app.router.get('/login', (ctx) => {
    ctx.session.user = { id: 4242, name: 'bench user', role: 'editor' };
    ctx.session.token = 'f3a1c9e07b5d4e2a8c6b1d0e9f7a3b5c';
    ctx.session.n = 0;
    ctx.body = 'ok';
  });
  // Reads the session: one decrypt (or one signature check) per request, no write.
  app.router.get('/read', (ctx) => {
    ctx.body = ctx.session.user?.id ?? 'none';
  });
  // Changes it: a decrypt and an encrypt (or a check and a signature) per request.
  app.router.get('/write', (ctx) => {
    ctx.session.n = (ctx.session.n ?? 0) + 1;
    ctx.body = String(ctx.session.n);
  });
};
