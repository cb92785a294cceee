import { Controller, type ActionsOf, type Context } from '@clutch/core';

export default class HomeController extends Controller {
  async index(ctx: Context) {
    ctx.body = {
      message: this.config.greeting,
      env: this.config.env,
      worker: process.pid,
      requestId: ctx.state.requestId,
      try: ['/price/100?to=USD', '/rates', '/rates/stats'],
    };
  }
}

declare module '@clutch/core' {
  interface ControllerTree {
    home: ActionsOf<HomeController>;
  }
}
