import type { Application } from '@clutch/core';

export default class AppBoot {
  readonly app: Application;

  constructor(app: Application) {
    this.app = app;
  }

  async didLoad() {
    // Every request is counted by the agent: one number for the whole cluster.
    this.app.use(async (ctx, next) => {
      this.app.messenger.sendToAgent('hit', { path: ctx.path });
      await next();
    });
  }
}
