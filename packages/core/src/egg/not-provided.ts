import { ClutchError, CoreErrorCode } from '../errors.js';

/**
 * egg's names that Clutch does not have: reading one fails with CLUTCH_ERR_NOT_PROVIDED saying what
 * to use instead — never an `undefined` that fails later. An app/extend that defines the name wins.
 */
const I18N = 'add an i18n library (koa-i18n, i18next) as middleware';
export const NOT_PROVIDED = {
  /** On the app and every context. */
  app: {
    runSchedule: "call the task's function directly, or run it from a route in a test",
    i18n: I18N,
    __: I18N,
    gettext: I18N,
    jsonp: 'add koa-jsonp as middleware',
    watcher: 'app dev restarts the cluster on a change; watch files yourself with fs.watch',
    cluster:
      "egg's cluster-client (one connection in the agent, shared by the workers) is not there: open the client in the agent and reach it with app.messenger.request",
  },
  context: {
    unsafeRedirect: 'use ctx.redirect (Koa), checking the target yourself',
  },
  request: {
    files: "egg's multipart file mode is not there: read uploads with ctx.getFileStream() or ctx.multipart()",
  },
  helper: {
    surl: 'encode with encodeURI / encodeURIComponent',
    sjs: 'pass data to scripts as JSON (JSON.stringify) in a data- attribute',
  },
} satisfies Record<string, Record<string, string>>;

export function notProvided(targets: Array<[object, string, Record<string, string>]>): void {
  for (const [target, label, names] of targets) {
    for (const [name, instead] of Object.entries(names)) {
      if (Object.prototype.hasOwnProperty.call(target, name)) continue;
      Object.defineProperty(target, name, {
        configurable: true,
        get() {
          throw new ClutchError(CoreErrorCode.NOT_PROVIDED, `${label}.${name} is egg's; Clutch does not provide it: ${instead} (docs/coming-from-egg.md)`);
        },
        // A library that brings its own (koa-i18n sets ctx.i18n) just sets it.
        set(this: object, value: unknown) {
          Object.defineProperty(this, name, { value, writable: true, configurable: true, enumerable: true });
        },
      });
    }
  }
}
