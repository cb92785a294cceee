import type { Logger } from '@clutch/cluster';
import type { Application } from '../application.js';
import type { Context } from '../context.js';
import { Controller } from '../controller.js';
import { ClutchError, CoreErrorCode } from '../errors.js';
import { loadExtend } from '../loader/extend.js';
import { Subscription } from '../schedule.js';
import { Service } from '../service.js';
import { contextExtras } from './context-extras.js';
import { Helper } from './helper.js';
import { curl, type HttpClient } from './httpclient.js';
import { NOT_PROVIDED, notProvided } from './not-provided.js';
import { eggRoutes } from './router.js';
import { CookieCipher } from './cookie-cipher.js';
import { eggCookies } from './cookies.js';
import { installAppApi } from './api/install-api.js';

const HELPER = Symbol('clutch.helper');

/**
 * What egg's own unit adds to a worker, before the units' app/extend and app.ts (which may use it,
 * as egg's app.js does): `app.keys` from `config.keys` and cookies signed with them, egg's names on
 * the app and the context (and the ones Clutch lacks, which say so), string routes and resources,
 * and `ctx.helper` with every unit's app/extend/helper.
 */
export async function extendApplication(app: Application): Promise<void> {
  const keys = app.config.keys
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  // No keys: Koa's cookies stay unsigned (an empty list would make every ctx.cookies throw).
  if (keys.length > 0) {
    app.keys = keys;
    const egg = app.config.cookies.readEggCookies ? await (await import('./egg-cookie-format.js')).eggFormat(keys) : null;
    eggCookies(app, new CookieCipher(keys, egg?.decrypt), app.logger, egg?.verify);
  }
  contextExtras(app);
  notProvided([
    [app, 'app', NOT_PROVIDED.app],
    [app.context, 'ctx', { ...NOT_PROVIDED.app, ...NOT_PROVIDED.context }],
    [app.request, 'ctx.request', NOT_PROVIDED.request],
  ]);
  const httpclient: HttpClient = { request: curl, curl };
  Object.defineProperties(app, {
    httpclient: { configurable: true, enumerable: true, writable: true, value: httpclient },
    curl: { configurable: true, enumerable: true, writable: true, value: curl },
    Controller: { configurable: true, enumerable: true, writable: true, value: Controller },
    Service: { configurable: true, enumerable: true, writable: true, value: Service },
    Subscription: { configurable: true, enumerable: true, writable: true, value: Subscription },
    coreLogger: { configurable: true, get: () => app.logger },
    // Writable: egg-router-plus puts its own in place, as egg lets it.
    url: {
      configurable: true,
      writable: true,
      value(name: string, params?: Record<string, unknown>): string {
        const url = app.router.url(name, params ?? {});
        if (url instanceof Error) throw new ClutchError(CoreErrorCode.ROUTER_UNKNOWN_ACTION, `app.url('${name}'): ${url.message}`);
        return url;
      },
    },
  });
  // The view plugin's: there (and null) when it is off, as the types say.
  app.locals = {};
  app.view = null;
  eggRoutes(app.router, () => app.controller);
  installAppApi(app);

  const AppHelper = class extends Helper {};
  notProvided([[AppHelper.prototype, 'ctx.helper', NOT_PROVIDED.helper]]);
  await loadExtend(app.units, 'helper', AppHelper.prototype);
  Object.defineProperty(app.context, 'helper', {
    configurable: true,
    get(this: Context & { [HELPER]?: Helper }) {
      return (this[HELPER] ??= new AppHelper(this));
    },
  });
}

declare module '../config.js' {
  interface FrameworkConfig {
    /** The keys cookies are signed with, comma-separated as egg's (the first signs, every one verifies); `app.keys`. */
    keys: string;
    cookies: {
      /** Also read cookies egg signed or encrypted (egg-cookies' formats; its encryption is not authenticated), while a deployment moves from egg: docs/coming-from-egg.md. */
      readEggCookies: boolean;
    };
  }
}

declare module '../application.js' {
  interface Application {
    /** egg's HTTP client (on Node's fetch): `app.httpclient.request(url, options)`, also `app.curl` and `ctx.curl`. */
    readonly httpclient: HttpClient;
    readonly curl: typeof curl;
    /** egg's base classes on the app: `class extends app.Controller`. */
    readonly Controller: typeof Controller;
    readonly Service: typeof Service;
    readonly Subscription: typeof Subscription;
    /** egg's `app.coreLogger`: Clutch has one logger per process. */
    readonly coreLogger: Logger;
    /** egg's `app.url(name, params)`: the path of a named route. */
    url(name: string, params?: Record<string, unknown>): string;
  }
}
