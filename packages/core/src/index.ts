export { Application } from './application.js';
export { Agent } from './agent.js';
export { Controller, type ActionsOf, type ControllerAction, type ControllerTree } from './controller.js';
export { Messenger, CLUSTER_PIDS, type MessageMeta, type MessageListener, type RequestHandler, type RequestOptions, type RequestTarget } from './messenger.js';
export { HOOKS, Lifecycle, type BootHooks, type HookName, type HookTiming } from './lifecycle.js';
export { loadConfig, type AppInfo, type ClutchConfig, type ConfigExport } from './config.js';
export { ClutchError, CoreErrorCode } from './errors.js';
export { startAgent, startWorker } from './framework.js';
export type { Context, Next, Middleware } from 'koa';
