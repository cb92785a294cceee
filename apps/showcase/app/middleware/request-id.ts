import { randomUUID } from 'node:crypto';
import type { MiddlewareFactory } from '@clutch/core';

/** Tags every response with an id (the client's, when it sent one) and how long it took. */
const requestId: MiddlewareFactory<{ header: string }> = (options) => async (ctx, next) => {
  const id = ctx.get(options.header) || randomUUID();
  ctx.state.requestId = id;
  const began = performance.now();
  await next();
  ctx.set(options.header, id);
  ctx.set('server-timing', `app;dur=${(performance.now() - began).toFixed(1)}`);
};
export default requestId;
