import { join } from 'node:path';
import bytes from 'bytes';
import type { ConfigFail, FrameworkPlugin, PluginCatalog } from '../loader/framework-plugin.js';
import { isPlainObject, type PlainObject } from '../loader/merge-config.js';
import { EGG_PLUGIN_NAMES } from './plugin-names.js';

/*
 * The registry of egg's built-in plugins. Each entry is a plugin unit the plugin loader resolves
 * with the project's plugins (on unless config/plugin turns it off): its config defaults and their
 * check, held here, cheap to import — the agent reads them too — and its middleware and app/extend,
 * imported only in a worker and only when the plugin is on.
 */

/** The built-in plugins config/plugin can turn off, by their names there. */
export type BuiltinPlugin = 'static' | 'session' | 'security' | 'multipart' | 'view';

const objects =
  (...keys: string[]) =>
  (config: PlainObject, fail: ConfigFail): void => {
    for (const key of keys) if (!isPlainObject(config[key])) fail(key, 'an object', config[key]);
  };

/** egg's own unit (egg's framework folder): keys, egg's names on the app and the context, string routes, the helper, the HTTP client. */
const egg: FrameworkPlugin = {
  name: 'egg',
  alwaysOn: true,
  config: () => ({ keys: '', cookies: { readEggCookies: false }, siteFile: {}, siteFileMaxAge: 24 * 3600 }),
  checkConfig(config, fail) {
    // egg writes keys as one comma-separated string; a list of them is taken too.
    if (Array.isArray(config.keys) && config.keys.every((k) => typeof k === 'string')) config.keys = config.keys.join(',');
    if (typeof config.keys !== 'string') fail('keys', "a string of comma-separated keys, like 'key1,key2'", config.keys);
    objects('cookies')(config, fail);
    const { readEggCookies } = config.cookies as PlainObject;
    if (typeof readEggCookies !== 'boolean') fail('cookies.readEggCookies', 'true or false', readEggCookies);
    if (!isPlainObject(config.siteFile)) fail('siteFile', "an object of paths, like { '/favicon.ico': 'https://…' }", config.siteFile);
    for (const [path, entry] of Object.entries(isPlainObject(config.siteFile) ? config.siteFile : {}))
      if (typeof entry !== 'string' && typeof entry !== 'function' && !Buffer.isBuffer(entry) && entry !== null)
        fail(`siteFile['${path}']`, 'a URL, a Buffer or a function of ctx', entry);
  },
  // egg's siteFile runs first of egg's core middleware, before the body parser.
  middleware: [
    {
      name: 'siteFile',
      before: 'bodyParser',
      create: async (_options, app) => (await import('./plugins/site-file.js')).siteFile(app.config.siteFile, app.config.siteFileMaxAge),
    },
  ],
  extendApp: async (app) => (await import('./application-extend.js')).extendApplication(app),
  extendAgent: async (agent) => (await import('./agent-extend.js')).extendAgent(agent),
};

const staticFiles: FrameworkPlugin = {
  name: 'static',
  config: ({ baseDir, env }) => ({
    static: { prefix: '/public/', dir: join(baseDir, 'app', 'public'), maxAge: env === 'prod' ? 31_536_000 : 0, gzip: true, brotli: true },
  }),
  checkConfig: objects('static'),
  // Before the body parser, as egg-static splices itself into egg's coreMiddleware.
  middleware: [
    {
      name: 'static',
      before: 'bodyParser',
      create: async (_options, app) => (await import('./plugins/static.js')).staticFiles(app.config.static, app.baseDir),
    },
  ],
};

const session: FrameworkPlugin = {
  name: 'session',
  config: () => ({ session: { key: 'CLUTCH_SESS', maxAge: 24 * 3600 * 1000, httpOnly: true, signed: true, encrypt: true, sameSite: 'lax' } }),
  // koa-session checks its options only when it loads, on the first request, where a mistake
  // would be a 500 on every request: the common ones are checked at the start.
  checkConfig(config, fail) {
    objects('session')(config, fail);
    const options = config.session as PlainObject;
    const { key, maxAge, sameSite } = options;
    if (typeof key !== 'string' || key === '') fail('session.key', 'a cookie name', key);
    if (maxAge !== 'session' && (typeof maxAge !== 'number' || !Number.isFinite(maxAge) || maxAge <= 0))
      fail('session.maxAge', "a number of ms or 'session'", maxAge);
    for (const flag of ['httpOnly', 'signed', 'rolling', 'renew', 'secure', 'overwrite', 'autoCommit', 'encrypt'] as const)
      if (options[flag] !== undefined && typeof options[flag] !== 'boolean') fail(`session.${flag}`, 'true or false', options[flag]);
    if (
      sameSite !== undefined &&
      sameSite !== null &&
      typeof sameSite !== 'boolean' &&
      !(typeof sameSite === 'string' && ['strict', 'lax', 'none'].includes(sameSite))
    )
      fail('session.sameSite', "'strict', 'lax', 'none', a boolean or null", sameSite);
  },
  middleware: [
    {
      name: 'session',
      async create(_options, app) {
        const mw = (await import('./plugins/session.js')).session(app.config.session, app);
        // egg's loader names each middleware `_name`: egg-socket.io finds the session one in
        // app.middleware by it, to run it on each socket's connection and packets.
        if (mw) Object.defineProperty(mw, '_name', { value: 'session', configurable: true });
        return mw;
      },
    },
  ],
};

const security: FrameworkPlugin = {
  name: 'security',
  config: () => ({
    security: {
      csrf: { enable: true, headerName: 'x-csrf-token', queryName: '_csrf', bodyName: '_csrf', cookieName: 'csrfToken' },
      xframe: { enable: true, value: 'SAMEORIGIN' },
      nosniff: { enable: true },
      noopen: { enable: true },
      xssProtection: { enable: true, value: '0' },
      hsts: { enable: false, maxAge: 365 * 24 * 3600, includeSubdomains: false },
    },
  }),
  checkConfig: objects('security'),
  middleware: [{ name: 'security', create: async (_options, app) => (await import('./plugins/security.js')).security(app.config.security, app) }],
};

const multipart: FrameworkPlugin = {
  name: 'multipart',
  config: () => ({ multipart: { fileSize: '10mb', files: 10, fields: 100, fieldSize: '100kb', fileExtensions: [] } }),
  checkConfig(config, fail) {
    objects('multipart')(config, fail);
    const options = config.multipart as PlainObject;
    for (const key of ['fileSize', 'fieldSize'] as const) {
      const raw = options[key];
      const value = typeof raw === 'string' ? bytes.parse(raw) : raw;
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0)
        fail(`multipart.${key}`, "a positive number of bytes or a size like '10mb'", raw);
      options[key] = value;
    }
  },
  extendApp: async (app) => (await import('./plugins/multipart.js')).multipart(app.config.multipart, app),
};

const view: FrameworkPlugin = {
  name: 'view',
  config: ({ baseDir, env }) => ({
    view: { root: join(baseDir, 'app', 'view'), defaultViewEngine: 'nunjucks', defaultExtension: '.html', mapping: {} },
    nunjucks: { autoescape: true, cache: env !== 'local' },
  }),
  checkConfig: objects('view', 'nunjucks'),
  async extendApp(app) {
    const { ViewManager, view, nunjucksFilters } = await import('./plugins/view.js');
    app.view = new ViewManager(app.config.view, app.config.nunjucks, app.baseDir);
    view(app.view, app);
    await nunjucksFilters(app.view, app);
  },
};

/**
 * The egg wing's plugin catalog: egg's own unit, then the built-ins in egg's order, and how egg's
 * config/plugin names them. Their middleware come out static → (the body parser) → session → security.
 */
export const EGG_PLUGINS: PluginCatalog = { plugins: [egg, staticFiles, session, security, multipart, view], ...EGG_PLUGIN_NAMES };
