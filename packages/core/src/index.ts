/// <reference types="@koa/bodyparser" preserve="true" />
// The body parser runs in every app: its `ctx.request.body` typing is part of ours.
// So are the kernel's additions to Koa's context (ctx.logger, ctx.runInBackground).
export type {} from './context-logger.js';
export type {} from './background-jobs.js';
export { Application } from './application.js';
export { Agent } from './agent.js';
export { Controller, type ActionsOf, type ControllerAction, type ControllerTree } from './controller.js';
export { Service, type ServiceTree } from './service.js';
export { skipBodyParser } from './body-parser.js';
export type { ClutchRouter, RouterExtensions } from './app-router.js';
export { Messenger, CLUSTER_PIDS } from './messenger.js';
export { HealthChecks, type HealthCheck, type HealthCheckOptions } from './health-checks.js';
export type {
  ActionData,
  MessageListener,
  MessageMeta,
  MessengerActions,
  MessengerRequests,
  RequestData,
  RequestHandler,
  RequestOptions,
  RequestArgs,
  RequestReply,
  RequestTarget,
  SendArgs,
} from './messenger-types.js';
export { HOOKS, Lifecycle, type BootHooks, type HookName, type HookTiming } from './lifecycle.js';
export type { AppConfig, AppInfo, ClutchConfig, ConfigExport, FrameworkConfig, MiddlewareOptions, PathRule } from './config.js';
export type { ConfigSources } from './loader/config.js';
export { defineConfig, type ConfigInput } from './define-config.js';
export type { MiddlewareFactory } from './loader/middleware.js';
export { defineSchedule, Subscription, type ScheduleDefinition, type ScheduleOptions, type ScheduleType } from './schedule.js';
export type { LoadUnit, PluginEntry } from './loader/plugins.js';
export type { ConfigFail, FrameworkMiddleware, FrameworkPlugin, PluginCatalog, PluginMeta } from './loader/framework-plugin.js';
export { ClutchError, CoreErrorCode } from './errors.js';
export type { Context } from './context.js';
export type { Next, Middleware } from 'koa';
export { Leader, type LeaderJob, type LeaderTerm } from './leader/leader.js';
export { LeaderElector, type Clock, type ElectorEvents } from './leader/elector.js';
export type { LeaseStore, LeaderOptions } from './leader/lease-store.js';
// The egg wing (egg/index.ts): egg compatibility, on by default, with its public names.
export * from './egg/index.js';
