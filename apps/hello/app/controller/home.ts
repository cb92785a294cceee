import { Controller, type ActionsOf, type Context } from '@clutch/core';

export default class HomeController extends Controller {
  async index(ctx: Context) {
    ctx.body = { message: this.config.greeting, env: this.config.env, worker: process.pid };
  }

  /** Asks the agent, which alone counts requests across every worker. */
  async stats(ctx: Context) {
    ctx.body = await this.app.messenger.request('agent', 'stats', null, { timeout: 1000 });
  }
}

declare module '@clutch/core' {
  interface ControllerTree {
    home: ActionsOf<HomeController>;
  }
}
