/// <reference types="@koa/bodyparser" preserve="true" />
// The body parser runs in every app: its `ctx.request.body` typing is part of ours.
// So are the built-ins' additions to Koa's context (ctx.session, ctx.csrf, ctx.logger, …).
export type {} from './egg/plugins/session.js';
export type {} from './egg/plugins/security.js';
export type {} from './egg/context-extras.js';
export type {} from './context-logger.js';
export type {} from './background-jobs.js';
export { Application } from './application.js';
export { Agent } from './agent.js';
export { Controller, type ActionsOf, type ControllerAction, type ControllerTree } from './controller.js';
export { Service, type ServiceTree } from './service.js';
export { Helper } from './egg/helper.js';
export { curl, type CurlOptions, type CurlResult } from './egg/httpclient.js';
export { skipBodyParser } from './body-parser.js';
export type { FileStream, FieldPart, MultipartOptions } from './egg/plugins/multipart.js';
export { ViewManager, type ViewEngine, type ViewEngineClass, type ViewLocals } from './egg/plugins/view.js';
export type { ClutchRouter, RouteHandler, RouteVerb } from './egg/router.js';
export type { BuiltinPlugin } from './loader/plugins.js';
export { Messenger, CLUSTER_PIDS } from './messenger.js';
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
export type {
  AppConfig,
  AppInfo,
  ClutchConfig,
  ConfigExport,
  FrameworkConfig,
  MiddlewareOptions,
  MultipartConfig,
  PathRule,
  SecurityConfig,
  SessionConfig,
  StaticConfig,
  ViewConfig,
} from './config.js';
export { loadConfig, type ConfigSources } from './loader/config.js';
export { defineConfig, type ConfigInput } from './define-config.js';
export type { MiddlewareFactory } from './loader/middleware.js';
export { defineSchedule, Subscription, type ScheduleDefinition, type ScheduleOptions, type ScheduleType } from './schedule.js';
export type { LoadUnit, PluginEntry } from './loader/plugins.js';
export { ClutchError, CoreErrorCode } from './errors.js';
export type { Context } from './context.js';
export type { Next, Middleware } from 'koa';
export { Leader, type LeaderJob, type LeaderTerm } from './leader/leader.js';
export { LeaderElector, type Clock, type ElectorEvents } from './leader/elector.js';
export type { LeaseStore, LeaderOptions } from './leader/lease-store.js';
