import type { Logger } from '@clutch/cluster';
import type { Agent } from '../agent.js';
import type { Application } from '../application.js';
import type { AppInfo, FrameworkConfig } from '../config.js';
import type { Context } from '../context.js';
import type { BootHooks } from '../lifecycle.js';
import type { PluginEntry } from '../loader/plugins.js';

/*
 * egg's type names, so an egg project's TypeScript compiles with `'egg'` renamed to `'@clutch/core'`
 * (docs/coming-from-egg.md). Each is Clutch's own type under egg's name; where egg lets a project
 * add to one by declaration merging (IService, IController, IHelper), adding to it adds to Clutch's.
 */

/** egg's `PowerPartial<T>`: every key optional, all the way down (a config file's object). */
export type PowerPartial<T> = { [K in keyof T]?: T[K] extends object ? PowerPartial<T[K]> : T[K] };

/**
 * egg's `EggAppConfig`: the framework's config keys, and any other key as unknown. A project's own
 * keys are AppConfig's (what `app typings` declares from config/config.*.ts): were they here too, a
 * config file typed `PowerPartial<EggAppConfig>` would be part of its own type. So a middleware's
 * options are `AppConfig['robot']`, where egg's would be `EggAppConfig['robot']`.
 */
export interface EggAppConfig extends FrameworkConfig {
  env: string;
  name: string;
  baseDir: string;
  [key: string]: unknown;
}

/** egg's `EggAppInfo`: what a config function gets (Clutch's AppInfo). */
export interface EggAppInfo extends AppInfo {}

/** egg's `EggPluginItem`: one entry of config/plugin. */
export interface EggPluginItem extends PluginEntry {}

/** egg's `EggPlugin`: config/plugin's export — `{ static: true, nunjucks: { enable: true, package: 'egg-view-nunjucks' } }`. */
export interface EggPlugin {
  [name: string]: EggPluginItem | boolean | undefined;
}

/** egg's `EggLogger`: Clutch has one logger shape for every process and context. */
export type EggLogger = Logger;

/** egg's `IBoot`: a boot class's lifecycle hooks (app.ts / agent.ts). */
export interface IBoot extends BootHooks {}

/** egg's `IService`: declared by the project (or `app typings`), it is `ctx.service`'s tree. */
export interface IService {}

/** egg's `IController`: declared by the project (or `app typings`), it is `app.controller`'s tree. */
export interface IController {}

/** egg's `IHelper`: what app/extend/helper adds to `ctx.helper`. */
export interface IHelper {}

/** egg's `EggApplication` / `EggAgent` / `EggContext` names for Clutch's. */
export type EggApplication = Application;
export type EggAgent = Agent;
export type EggContext = Context;

declare module '../service.js' {
  interface ServiceTree extends IService {}
}
declare module '../controller.js' {
  interface ControllerTree extends IController {}
}
declare module './helper.js' {
  interface Helper extends IHelper {}
}
