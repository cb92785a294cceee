import type { Middleware } from 'koa';
import { RequestScoped } from './request-scoped.js';

/**
 * Base class for controllers. Each request gets a new instance; every method is an action that
 * also receives the context as its first argument.
 *
 * @example
 * export default class UserController extends Controller {
 *   async show(ctx: Context) { ctx.body = { id: ctx.params.id, env: this.config.env }; }
 * }
 */
export class Controller extends RequestScoped {}

/** An action as the router sees it: a Koa middleware. */
export type ControllerAction = Middleware;

/** The actions a controller class offers: each method becomes a middleware the router can mount. */
export type ActionsOf<C> = {
  [K in keyof C as C[K] extends (...args: never[]) => unknown ? K : never]: ControllerAction;
};

/**
 * `app.controller`: app/controller/admin/user.ts becomes `app.controller.admin.user`, whose
 * methods are actions. A TypeScript project declares its tree next to its controllers, so the
 * router is checked against the files that exist:
 *
 * @example
 * declare module '@clutch/core' {
 *   interface ControllerTree { home: ActionsOf<HomeController> }
 * }
 */
export interface ControllerTree {}
