/**
 * The egg wing: what makes an egg project run on Clutch, kept out of the kernel.
 *
 * It holds egg's plugin-package protocol (`eggPlugin`, plugin-names.ts), the egg APIs plugins call
 * (api/: addSingleton, app.loader, getLogger, …), and egg's plugin units — egg's own (config.keys
 * and signed cookies, isAjax / acceptJSON / curl / httpclient / coreLogger, the names Clutch lacks and what to use instead, string routes and
 * resources, app.url, ctx.helper) and the built-in plugins static, session, security, multipart and
 * view — with their registry (plugins.ts: each entry's defaults, config check, middleware, extend)
 * and egg's config/plugin names for them (plugin-names.ts). `installEgg(app | agent)` hands them to
 * the plugin loader, which loads them as it loads a project's plugins, before those; the framework
 * entry and @clutch/mock call it, so egg compatibility is on by default.
 *
 * The layering rule: the wing imports the kernel (and its loader); nothing in the kernel or under
 * loader/ imports the wing — test/core/import-graph.test.ts checks it. The kernel offers seams
 * instead: FrameworkPlugin and PluginCatalog (loader/framework-plugin.ts), interfaces to merge
 * declarations into (FrameworkConfig, Application, Agent, RouterExtensions, Koa's DefaultContext).
 * Only core's index.ts and framework.ts reach into the wing.
 */
export { installEgg } from './install.js';
export { loadConfig } from './load-config.js';
export { TYPINGS_FILE, writeTypings } from './typings.js';
export type { BuiltinPlugin } from './plugins.js';
export type {} from './application-extend.js';
export type {} from './agent-extend.js';
export type {} from './context-extras.js';
// egg's APIs for plugins on the app and the agent (addSingleton, loader, getLogger, …), by declaration merging.
export type {} from './api/install-api.js';
export { EggLoader } from './api/egg-loader.js';
export { FileLoader, type CaseStyle, type FileLoaderOptions } from './api/file-loader.js';
export { Singleton, type CreateClient } from './api/singleton.js';
// egg's cookie options on ctx.cookies (`{ encrypt: true }`), by declaration merging.
export type {} from './cookies.js';
export { Helper } from './helper.js';
export type {
  EggAgent,
  EggAppConfig,
  EggAppInfo,
  EggApplication,
  EggContext,
  EggLogger,
  EggPlugin,
  EggPluginItem,
  IBoot,
  IController,
  IHelper,
  IService,
  PowerPartial,
} from './egg-types.js';
export { curl, type CurlOptions, type CurlResult, type HttpClient } from './httpclient.js';
export type { RouteHandler, RouteVerb } from './router.js';
export type { StaticConfig } from './plugins/static.js';
export type { SiteFileEntry } from './plugins/site-file.js';
export type { SessionConfig } from './plugins/session.js';
export type { SecurityConfig } from './plugins/security.js';
export type { FileStream, FieldPart, MultipartConfig, MultipartOptions, Parts } from './plugins/multipart.js';
export { ViewManager, type NunjucksConfig, type ViewConfig, type ViewEngine, type ViewEngineClass, type ViewLocals } from './plugins/view.js';
