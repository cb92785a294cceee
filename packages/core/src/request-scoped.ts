import type { Application } from './application.js';
import type { ClutchConfig } from './config.js';
import type { Context } from './context.js';
import type { ServiceTree } from './service.js';

/** What controllers and services share: one instance per request, with the request at hand. */
export class RequestScoped {
  readonly ctx: Context;
  readonly app: Application;
  readonly config: ClutchConfig;
  readonly service: ServiceTree;

  constructor(ctx: Context) {
    this.ctx = ctx;
    this.app = ctx.app;
    this.config = this.app.config;
    this.service = ctx.service;
  }
}
