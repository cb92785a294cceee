/**
 * Type tests: this file is type-checked with the rest of test/ by `npm test` (tsc -b) and never
 * run. Each `@ts-expect-error` must meet an error, or the build fails.
 */
import { ClusterErrorCode, ClutchError, deserializeError } from '@clutch/cluster';
import {
  ClutchError as CoreClutchError,
  CoreErrorCode,
  defineConfig,
  defineSchedule,
  Service,
  skipBodyParser,
  type Agent,
  type Application,
  type Context,
  type MiddlewareFactory,
} from '@clutch/core';
import type { EggAppConfig, EggAppInfo, EggPlugin, IService, PowerPartial } from '@clutch/core';
import mm, { type MockApplication } from '@clutch/mock';

class TypesUserService extends Service {
  name(): string {
    return `user of ${this.ctx.path}`;
  }
}

declare module '@clutch/core' {
  interface MessengerActions {
    'types:ping': { n: number };
  }
  interface MessengerRequests {
    'types:sum': { data: { a: number; b: number }; reply: number };
  }
  interface AppConfig {
    typesGreeting: string;
  }
  interface ServiceTree {
    typesUser: TypesUserService;
  }
}

export function messenger(app: Application): void {
  app.messenger.sendToApp('types:ping', { n: 1 });
  // @ts-expect-error a declared action's payload is checked
  app.messenger.sendToApp('types:ping', { n: 'one' });
  app.messenger.on('types:ping', (data, meta) => {
    const n: number = data.n;
    const from: 'agent' | 'app' | 'master' = meta.from;
    void [n, from];
  });
  const sum: Promise<number> = app.messenger.request('agent', 'types:sum', { a: 1, b: 2 });
  void sum;
  // @ts-expect-error a declared request's data is checked
  void app.messenger.request('agent', 'types:sum', { a: '1', b: 2 });
  app.messenger.handle('types:sum', ({ a, b }) => a + b);
  // @ts-expect-error a declared request's reply is checked
  app.messenger.handle('types:sum', () => 'not a number');
  app.messenger.on('undeclared', (data) => {
    // @ts-expect-error an undeclared action carries unknown, not any
    void data.anything;
  });
  app.messenger.on('undeclared', (data: { i: number }) => void data.i);
  // @ts-expect-error a declared action needs its data
  app.messenger.sendToApp('types:ping');
  // @ts-expect-error a declared request needs its data
  void app.messenger.request('agent', 'types:sum');
  // @ts-expect-error a caller cannot claim a reply type unrelated to the declaration
  void app.messenger.request<'types:sum', string>('agent', 'types:sum', { a: 1, b: 2 });
  app.messenger.sendToApp('undeclared');
}

export function context(ctx: Context): void {
  const id: string | undefined = ctx.params.id;
  const user = ctx.app.config.typesGreeting;
  // @ts-expect-error Koa's `[key: string]: any` is gone: a typo is an error
  void ctx.servce;
  // @ts-expect-error state holds unknowns, not any
  const n: number = ctx.state.count;
  void [id, user, n];
}

export function config(app: Application): void {
  const greeting: string = app.config.typesGreeting;
  const port: number | undefined = app.config.cluster.listen.port;
  // @ts-expect-error a declared config key has its declared type
  const wrong: number = app.config.typesGreeting;
  void [greeting, port, wrong];
}

export const goodConfig = defineConfig((info) => ({ cluster: { listen: { port: 8080 } }, typesGreeting: info.name }));
// @ts-expect-error the framework's keys are checked
export const badConfig = defineConfig({ cluster: { listen: { port: 'eighty' } } });

export function services(ctx: Context): string {
  // @ts-expect-error an undeclared service does not exist
  void ctx.service.nobody;
  return ctx.service.typesUser.name();
}

export const middleware: MiddlewareFactory<{ header: string }> = (options, app) => async (ctx, next) => {
  ctx.set(options.header, app.name);
  await next();
};

export const schedule = defineSchedule({
  schedule: { interval: '1m', type: 'worker' },
  task: (ctx) => ctx.service.typesUser.name(),
});
// @ts-expect-error a schedule type is 'worker' or 'all'
export const badSchedule = defineSchedule({ schedule: { interval: '1m', type: 'agent' }, task: () => {} });

declare module '@clutch/core' {
  interface Helper {
    typesMoney(cents: number): string;
  }
}
declare module 'koa' {
  interface DefaultContext {
    typesIsIOS: boolean;
  }
}

/** What egg users write: string routes, the built-ins' context, app/extend declared by merging. */
export async function eggStyle(app: Application, ctx: Context): Promise<void> {
  app.router.get('/', 'home.index');
  app.router.get('home', '/home', 'home.index');
  app.router.post('/upload', skipBodyParser, async (c) => {
    c.body = 'ok';
  });
  app.router.resources('posts', '/posts', 'posts');
  // @ts-expect-error a handler is a middleware or a controller name
  app.router.get('/', 42);
  app.beforeStart(async () => {});
  app.on('server', () => {});
  const views: number | undefined = ctx.session?.views as number | undefined;
  const token: string = ctx.csrf;
  ctx.logger.info('views %d, token %s', views ?? 0, token);
  const money: string = ctx.helper.typesMoney(100);
  const ios: boolean = ctx.typesIsIOS;
  ctx.runInBackground(async (c) => c.logger.info('%s %s', money, ios));
  const file = await ctx.getFileStream();
  const name: string = file.filename;
  await ctx.render('page', { name });
  // @ts-expect-error render's locals are an object
  await ctx.render('page', 'not locals');
}

/** The built-ins' config keys and egg's app and agent members come from the egg wing by declaration merging: typed all the same. */
export async function eggWing(app: Application, agent: Agent): Promise<void> {
  const cookie: string = app.config.session.key;
  const maxAge: number | 'session' = app.config.session.maxAge;
  const prefix: string = app.config.static.prefix;
  const header: string = app.config.security.csrf.headerName;
  const fileSize: number | string = app.config.multipart.fileSize;
  const engine: string = app.config.view.defaultViewEngine;
  const keys: string = app.config.keys;
  // @ts-expect-error a built-in's config key has its declared type
  const wrong: number = app.config.static.prefix;
  void [cookie, maxAge, prefix, header, fileSize, engine, keys, wrong];
  const html: string | undefined = await app.view?.render('page', {});
  const { status } = await app.curl<{ ok: boolean }>('http://127.0.0.1/');
  const reply = await agent.httpclient.request('http://127.0.0.1/', { dataType: 'json' });
  const path: string = app.url('post', { id: 1 });
  const controller: typeof app.Controller = app.Controller;
  app.coreLogger.info('%s %d %d %s', html, status, reply.status, path);
  void controller;
  // @ts-expect-error the agent has no router
  void agent.router;
}

export const builtinConfig = defineConfig({ keys: 'a,b', session: { maxAge: 'session' }, static: { maxAge: 60 }, security: { csrf: { ignore: '/hooks' } } });
// @ts-expect-error a built-in's keys are checked by defineConfig too
export const badBuiltinConfig = defineConfig({ session: { maxAge: true } });

/** Each package makes its errors with its own codes only (docs/errors.md). */
export function errorCodes(): void {
  void new CoreClutchError(CoreErrorCode.CONFIG_INVALID, 'a core code');
  // @ts-expect-error a code that is in no registry does not compile
  void new CoreClutchError('CLUTCH_ERR_NO_SUCH_CODE', 'a typo');
  // @ts-expect-error core's errors take core's codes, not the cluster's
  void new CoreClutchError(ClusterErrorCode.INVALID_OPTION, 'another package');
  void new ClutchError(ClusterErrorCode.INVALID_OPTION, 'a cluster code');
  // @ts-expect-error the cluster's errors take the cluster's codes
  void new ClutchError('CLUTCH_ERR_CONFIG_INVALID', 'a core code');
  const remote = deserializeError({ name: 'ClutchError', code: 'CLUTCH_ERR_CONFIG_INVALID', message: 'from a worker' });
  // One class: whichever package made it, and a code of any package once it crossed a process boundary.
  if (remote instanceof CoreClutchError) void (remote.code satisfies string);
}

// egg's type names (docs/coming-from-egg.md, "TypeScript"): a config file typed as egg types one.

class TypesEggService extends Service {
  hello(): string {
    return 'hello';
  }
}

declare module '@clutch/core' {
  // egg's merge point: a declaration here reaches ctx.service.
  interface IService {
    typesEgg: TypesEggService;
  }
}

export function eggConfig(appInfo: EggAppInfo): PowerPartial<EggAppConfig> {
  const config: PowerPartial<EggAppConfig> = {};
  config.keys = `${appInfo.name}_1`;
  config.security = { csrf: { enable: false } };
  // @ts-expect-error a framework key keeps its type
  config.keys = 42;
  return config;
}

export const eggPlugins: EggPlugin = { static: true, nunjucks: { enable: true, package: 'egg-view-nunjucks' } };

export function eggServiceTree(ctx: Context): string {
  const declared: IService['typesEgg'] = ctx.service.typesEgg;
  return declared.hello();
}

export async function eggMock(): Promise<void> {
  const app: MockApplication = mm.app({ baseDir: '/tmp/project' });
  await app.ready();
  app.mockService('typesEgg', 'hello', 'mocked').mockCsrf().mockSession({ user: 1 });
  app.mockHttpclient('https://x.test/', 'get', { data: { ok: true }, status: 200 });
  // @ts-expect-error a result is needed
  app.mockHttpclient('https://x.test/');
  await app.httpRequest().get('/').expect(200);
  app.expectLog(/GET/);
  const ctx: Context = app.mockContext({ user: { id: 1 } });
  void ctx.service.typesEgg.hello();
  mm(process.env, 'X', '1');
  mm.restore();
}
