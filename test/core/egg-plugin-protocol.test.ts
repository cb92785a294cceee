/**
 * egg's plugin protocol in the plugin loader, and the egg APIs plugins call (addSingleton, the
 * loader, coreMiddleware), booted in this process with @clutch/mock on projects made here — the
 * plugins as folders with an `eggPlugin` field, CommonJS as egg's are.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createApp } from '@clutch/mock';

const dir = mkdtempSync(join(tmpdir(), 'clutch-eggplug-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let made = 0;
/** A CommonJS project of these files, in a folder of its own. */
function project(files: Record<string, string>): string {
  const root = join(dir, `p${++made}`);
  for (const [file, text] of Object.entries({ 'package.json': JSON.stringify({ name: `p${made}` }), ...files })) {
    mkdirSync(join(root, file, '..'), { recursive: true });
    writeFileSync(join(root, file), text);
  }
  return root;
}
const eggPlugin = (meta: Record<string, unknown>) => JSON.stringify({ name: `egg-${String(meta.name)}`, eggPlugin: meta });
const hasCode = (code: string, message?: RegExp) => (err: unknown) =>
  (err as { code?: string }).code === code && (!message || message.test((err as Error).message));

describe("egg's plugin protocol", () => {
  it('eggPlugin: its name and dependencies (a built-in meets one), its env, config under the app’s, app.js as a function and as a class', async () => {
    const root = project({
      'config/plugin.js': `
        exports.first = { enable: true, path: require('path').join(__dirname, '../plugins/first') };
        exports.second = { enable: true, path: require('path').join(__dirname, '../plugins/second') };
        exports.localOnly = { enable: true, path: require('path').join(__dirname, '../plugins/local-only') };`,
      'config/config.default.js': "exports.first = { color: 'app' };",
      'plugins/first/package.json': eggPlugin({ name: 'first', dependencies: ['session', 'second'], optionalDependencies: ['onerror'] }),
      // A default compiled from TypeScript (exports.default, __esModule), as egg-mysql's.
      'plugins/first/config/config.default.js':
        "Object.defineProperty(exports, '__esModule', { value: true }); exports.default = { first: { color: 'plugin', size: 1 } };",
      'plugins/first/app.js': "module.exports = (app) => { app.order = [...(app.order || []), 'first']; };",
      'plugins/second/package.json': eggPlugin({ name: 'second' }),
      'plugins/second/app.js':
        "Object.defineProperty(exports, '__esModule', { value: true }); exports.default = class { constructor(app) { this.app = app; } configDidLoad() { this.app.order = [...(this.app.order || []), 'second']; } };",
      'plugins/local-only/package.json': eggPlugin({ name: 'localOnly', env: ['local'] }),
      'plugins/local-only/app.js': "module.exports = () => { throw new Error('on in unittest'); };",
    });
    const mock = await createApp(root);
    after(() => mock.close());
    const app = mock.app as typeof mock.app & { order: string[] };
    assert.deepEqual(
      app.units.map((u) => u.name),
      ['second', 'first', `p${made}`],
    );
    assert.deepEqual(app.order, ['second', 'first']);
    assert.deepEqual(app.config.first, { color: 'app', size: 1 });
  });

  it('a dependency no plugin meets fails the start naming both; a plugin without eggPlugin.name is its key', async () => {
    const root = project({
      'config/plugin.js': "exports.needy = { enable: true, path: require('path').join(__dirname, '../needy') };",
      'needy/package.json': JSON.stringify({ name: 'egg-needy', eggPlugin: { dependencies: ['nosuch'] } }),
    });
    await assert.rejects(createApp(root), hasCode('CLUTCH_ERR_PLUGIN_MISSING_DEPENDENCY', /Plugin "needy" depends on plugin "nosuch"/));
  });

  it("config/plugin's env wins over eggPlugin.env; an eggPlugin that is not an object is CLUTCH_ERR_PLUGIN_INVALID", async () => {
    const root = project({
      'config/plugin.js': "exports.localOnly = { enable: true, env: ['unittest'], path: require('path').join(__dirname, '../local-only') };",
      'local-only/package.json': eggPlugin({ name: 'localOnly', env: ['local'] }),
    });
    const mock = await createApp(root);
    after(() => mock.close());
    assert.deepEqual(
      mock.app.units.map((u) => u.name),
      ['localOnly', `p${made}`],
    );
    const broken = project({
      'config/plugin.js': "exports.odd = { enable: true, path: require('path').join(__dirname, '../odd') };",
      'odd/package.json': JSON.stringify({ name: 'egg-odd', eggPlugin: 'odd' }),
    });
    await assert.rejects(createApp(broken), hasCode('CLUTCH_ERR_PLUGIN_INVALID', /eggPlugin field that is not an object/));
  });
});

describe('the egg APIs plugins call', () => {
  it('addSingleton: client, clients with default, createInstance, an async create awaited before the app is ready', async () => {
    const root = project({
      'config/plugin.js': "exports.db = { enable: true, path: require('path').join(__dirname, '../db') };",
      'config/config.default.js': `
        exports.one = { client: { host: 'a' }, default: { port: 1 } };
        exports.many = { clients: { x: { host: 'x' }, y: { host: 'y', port: 9 } }, default: { port: 2 } };
        exports.later = {};`,
      'db/package.json': eggPlugin({ name: 'db' }),
      'db/app.js': `
        module.exports = (app) => {
          app.addSingleton('one', (config, app, name) => ({ ...config, name }));
          app.addSingleton('many', (config, app, name) => ({ ...config, name }));
          app.addSingleton('later', async (config) => { await new Promise((r) => setTimeout(r, 20)); return { ...config }; });
          app.addSingleton('slow', async () => { await new Promise((r) => setTimeout(r, 20)); app.slowDone = true; return {}; });
        };`,
      'config/config.unittest.js': 'exports.slow = { client: {} };',
    });
    const mock = await createApp(root);
    after(() => mock.close());
    const app = mock.app as unknown as Record<
      string,
      { get(id: string): unknown; createInstance(c: object): unknown; createInstanceAsync(c: object): Promise<unknown> }
    >;
    assert.deepEqual(app.one, { host: 'a', port: 1, name: 'one' });
    assert.deepEqual(app.many!.get('x'), { host: 'x', port: 2, name: 'x' });
    assert.deepEqual(app.many!.get('y'), { host: 'y', port: 9, name: 'y' });
    assert.deepEqual(app.many!.createInstance({ host: 'z' }), { host: 'z', port: 2, name: 'many' });
    assert.deepEqual(await app.later!.createInstanceAsync({ host: 'l' }), { host: 'l' });
    assert.equal((mock.app as unknown as { slowDone?: boolean }).slowDone, true, 'the async client was made before ready');
  });

  it("a beforeStart a singleton's create registers starts at once, as egg's: a client's first event is not missed", async () => {
    // egg-redis's shape: create makes a client that emits 'ready' soon, and waits for it in beforeStart.
    const root = project({
      'config/config.default.js': 'exports.hookTimeout = 2000; exports.conn = { client: {} };',
      'app.js': `
        const { EventEmitter } = require('events');
        module.exports = (app) => {
          app.addSingleton('conn', (config, app) => {
            const client = new EventEmitter();
            setImmediate(() => client.emit('ready'));
            app.beforeStart(() => new Promise((resolve) => client.once('ready', () => { client.isReady = true; resolve(); })));
            return client;
          });
        };`,
    });
    const mock = await createApp(root);
    after(() => mock.close());
    assert.equal((mock.app as unknown as { conn: { isReady?: boolean } }).conn.isReady, true);
  });

  it('addSingleton: both client and clients, or a name and no function: CLUTCH_ERR_EGG_SINGLETON_INVALID', async () => {
    for (const [config, call] of [
      ['exports.both = { client: {}, clients: { a: {} } };', "app.addSingleton('both', () => ({}))"],
      ['', "app.addSingleton('nofn')"],
      ["exports.wrong = { clients: { a: 'host' } };", "app.addSingleton('wrong', () => ({}))"],
    ]) {
      const root = project({ 'config/config.default.js': config!, 'app.js': `module.exports = (app) => { ${call}; };` });
      await assert.rejects(createApp(root), hasCode('CLUTCH_ERR_LIFECYCLE_HOOK_FAILED'), call);
      await assert.rejects(createApp(root), (err: Error & { cause?: { code?: string } }) => err.cause?.code === 'CLUTCH_ERR_EGG_SINGLETON_INVALID', call);
    }
  });

  it('app.loader.loadToApp (caseStyle, initializer, filter), loadToContext (a class per request), getLoadUnits; in the agent too', async () => {
    const root = project({
      'app.js': `
        const path = require('path');
        module.exports = (app) => {
          const kept = [];
          app.loader.loadToApp(path.join(app.baseDir, 'app/model'), 'model', {
            caseStyle: 'upper',
            initializer: (factory) => (typeof factory === 'function' ? factory(app, 'db') : factory),
            filter: (m) => { if (!m || !m.table) return false; kept.push(m.table); return true; },
          });
          app.kept = kept;
          app.loader.loadToContext(path.join(app.baseDir, 'app/io'), 'io');
          app.router.get('/io', (ctx) => { ctx.body = { same: ctx.io.chat === ctx.io.chat, path: ctx.io.chat.path(), units: app.loader.getLoadUnits().map((u) => u.type) }; });
        };`,
      'agent.js': "module.exports = (agent) => { agent.loader.loadToApp(require('path').join(agent.baseDir, 'app/model'), 'model', { caseStyle: 'upper' }); };",
      'app/model/user_account.js': "module.exports = (app, db) => ({ table: 'user_account', db });",
      'app/model/admin/role.js': "module.exports = () => ({ table: 'role' });",
      'app/model/not_a_model.js': 'module.exports = () => ({});',
      'app/io/chat.js': 'module.exports = class { constructor(ctx) { this.ctx = ctx; } path() { return this.ctx.path; } };',
    });
    const mock = await createApp(root);
    after(() => mock.close());
    const app = mock.app as unknown as { model: Record<string, unknown>; kept: string[] };
    assert.deepEqual(app.model, { Admin: { Role: { table: 'role' } }, UserAccount: { table: 'user_account', db: 'db' } });
    assert.deepEqual(app.kept.sort(), ['role', 'user_account']);
    const r = await mock.request().get('/io').expect(200);
    assert.deepEqual(r.body, { same: true, path: '/io', units: ['app'] });
    assert.deepEqual(Object.keys((mock.agent as unknown as { model: object }).model).sort(), ['Admin', 'NotAModel', 'UserAccount']);
  });

  it('FileLoader: two files for one property, or a TypeScript file: CLUTCH_ERR_EGG_LOADER_FAILED naming the file', async () => {
    for (const [files, message] of [
      [{ 'app/model/user.js': 'module.exports = 1;', 'app/model/User.js': 'module.exports = 2;' }, /[uU]ser\.js would replace User, loaded from another file/],
      [{ 'app/model/user.ts': 'export default 1;' }, /user\.ts is TypeScript/],
    ] as const) {
      const root = project({
        ...files,
        'app.js': "module.exports = (app) => { app.loader.loadToApp(require('path').join(app.baseDir, 'app/model'), 'model', { caseStyle: 'upper' }); };",
      });
      await assert.rejects(createApp(root), (err: Error & { cause?: Error & { code?: string } }) => {
        return err.cause?.code === 'CLUTCH_ERR_EGG_LOADER_FAILED' && message.test(err.cause.message);
      });
    }
  });

  it("config.coreMiddleware lists the framework's middleware in egg's order; a plugin's app.js places its own among them", async () => {
    const mw = (name: string) =>
      `module.exports = () => async (ctx, next) => { ctx.set('x-order', [ctx.response.get('x-order'), '${name}'].filter(Boolean).join(',')); await next(); };`;
    const root = project({
      'config/plugin.js': "exports.early = { enable: true, path: require('path').join(__dirname, '../early') };",
      'early/package.json': eggPlugin({ name: 'early' }),
      'early/app.js': `module.exports = (app) => {
        app.before = [...app.config.coreMiddleware];
        app.config.coreMiddlewares.unshift('first');
        app.config.coreMiddleware.splice(app.config.coreMiddleware.indexOf('session'), 0, 'beforeSession');
        app.config.appMiddleware.push('appMw');
      };`,
      'early/app/middleware/first.js': mw('first'),
      'early/app/middleware/before_session.js': mw('beforeSession'),
      'app/middleware/app_mw.js': mw('appMw'),
      'app/router.js':
        "module.exports = (app) => app.router.get('/', (ctx) => { ctx.body = { before: app.before, now: app.config.coreMiddleware, app: app.config.middleware }; });",
    });
    const mock = await createApp(root);
    after(() => mock.close());
    const r = await mock.request().get('/').expect(200);
    assert.deepEqual(r.body.before, ['siteFile', 'static', 'bodyParser', 'session', 'security']);
    assert.deepEqual(r.body.now, ['first', 'siteFile', 'static', 'bodyParser', 'beforeSession', 'session', 'security']);
    assert.deepEqual(r.body.app, ['appMw']);
    assert.equal(r.headers['x-order'], 'first,beforeSession,appMw');
  });

  it('getLogger is the process logger, toAsyncFunction keeps an async function and refuses a generator (CLUTCH_ERR_NOT_PROVIDED)', async () => {
    const mock = await createApp(project({}));
    after(() => mock.close());
    const app = mock.app;
    assert.equal(app.getLogger('scheduleLogger'), app.logger);
    const fn = async () => 1;
    assert.equal(app.toAsyncFunction(fn), fn);
    assert.throws(() => app.toAsyncFunction(function* gen() {}), hasCode('CLUTCH_ERR_NOT_PROVIDED'));
  });
});
