import { Controller, type ActionsOf, type Context } from '@clutch/core';

export default class PriceController extends Controller {
  /** GET /price/:amount?to=USD */
  async convert(ctx: Context) {
    const amount = Number(ctx.params.amount);
    if (!Number.isFinite(amount)) ctx.throw(400, 'amount must be a number');
    ctx.body = await this.service.rates.convert(amount, String(ctx.query.to ?? 'USD'));
  }

  async rates(ctx: Context) {
    ctx.body = await this.service.rates.current();
  }

  async stats(ctx: Context) {
    ctx.body = await this.app.messenger.request('agent', 'rates:stats', null);
  }
}

declare module '@clutch/core' {
  interface ControllerTree {
    price: ActionsOf<PriceController>;
  }
}
