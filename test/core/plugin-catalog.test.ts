/**
 * The plugin loader's seam for plugins that are the framework's own (a FrameworkPlugin in a
 * PluginCatalog), first with a catalog of the test's making, then with the egg wing's.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createApp } from '@clutch/mock';
import { bodyParser } from '../../packages/core/src/body-parser.ts';
import { EGG_PLUGINS } from '../../packages/core/src/egg/plugins.ts';
import { loadConfig } from '../../packages/core/src/loader/config.ts';
import type { FrameworkPlugin, PluginCatalog } from '../../packages/core/src/loader/framework-plugin.ts';
import { frameworkMiddleware } from '../../packages/core/src/loader/middleware.ts';
import { resolveUnits } from '../../packages/core/src/loader/plugins.ts';

const dir = mkdtempSync(join(tmpdir(), 'clutch-catalog-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let made = 0;
/** A project of these files (package.json added), in a folder of its own. */
function project(files: Record<string, string>): string {
  const root = join(dir, `p${++made}`);
  for (const [file, text] of Object.entries({ 'package.json': JSON.stringify({ name: `p${made}`, type: 'module' }), ...files })) {
    mkdirSync(join(root, file, '..'), { recursive: true });
    writeFileSync(join(root, file), text);
  }
  return root;
}
const names = (plugins: readonly FrameworkPlugin[]) => plugins.map((p) => p.name);
const hasCode = (code: string, message: RegExp) => (err: Error & { code?: string }) => err.code === code && message.test(err.message);

describe('a framework plugin is a unit the plugin loader resolves', () => {
  const own: FrameworkPlugin = { name: 'own', alwaysOn: true };
  const tracer: FrameworkPlugin = {
    name: 'tracer',
    config: ({ env }) => ({ tracer: { level: 'framework', env, sample: 1 } }),
    checkConfig(config, fail) {
      const { sample } = config.tracer as { sample: unknown };
      if (typeof sample !== 'number') fail('tracer.sample', 'a number', sample);
    },
    middleware: [{ name: 'tracer', create: () => null }],
  };
  const gzip: FrameworkPlugin = { name: 'gzip', middleware: [{ name: 'gzip', before: 'bodyParser', create: () => null }] };
  const catalog: PluginCatalog = {
    plugins: [own, tracer, gzip],
    alias: (key, entry, { on }) => {
      if (key === 'oldTracer') return 'tracer';
      if (key === 'always') return null;
      if (key === 'gone' && on) throw Object.assign(new Error('gone is gone'), { code: 'TEST_GONE' });
      return entry.package === 'tracer-pkg' ? 'tracer' : undefined;
    },
    missing: (key, pkg) => {
      if (pkg.startsWith('legacy-')) throw Object.assign(new Error(`${key}: ${pkg} is legacy`), { code: 'TEST_LEGACY' });
    },
    // A package.json without clutchPlugin, read another way (as egg's eggPlugin will be).
    foreign: (_key, _path, pkg) => (pkg.legacyPlugin as { name: string } | undefined) ?? undefined,
  };

  it('on unless config/plugin turns it off, by its name or by a name the catalog gives it; an always-on unit is not named', async () => {
    assert.deepEqual(names((await resolveUnits(project({}), 'prod', 'app', catalog)).builtins), ['own', 'tracer', 'gzip']);
    const off = project({ 'config/plugin.js': 'export default { tracer: false, gzip: { enable: true }, own: false, always: false };' });
    const resolved = await resolveUnits(off, 'prod', 'app', catalog);
    assert.deepEqual(names(resolved.builtins), ['own', 'gzip']);
    // None of them is a load unit of the project's: `units` are the project's plugins and the project.
    assert.deepEqual(
      resolved.units.map((u) => u.name),
      ['app'],
    );
    for (const plugin of ['oldTracer: { enable: false }', "t: { package: 'tracer-pkg', enable: false }", "tracer: { enable: true, env: ['local'] }"]) {
      const root = project({ 'config/plugin.js': `export default { ${plugin} };` });
      assert.deepEqual(names((await resolveUnits(root, 'prod', 'app', catalog)).builtins), ['own', 'gzip'], plugin);
    }
    // A key with a path or a package is the project's plugin, even when a framework plugin has that name.
    const folder = project({
      'config/plugin.js': "export default { tracer: { path: 'mine' } };",
      'mine/package.json': JSON.stringify({ clutchPlugin: { name: 'myTracer' } }),
    });
    const mine = await resolveUnits(folder, 'prod', 'app', catalog);
    assert.deepEqual(names(mine.builtins), ['own', 'tracer', 'gzip']);
    assert.deepEqual(
      mine.units.map((u) => u.name),
      ['myTracer', 'app'],
    );
  });

  it('the catalog speaks for what is not a plugin: a name it knows is gone, a package not installed, a package.json it reads', async () => {
    await assert.rejects(resolveUnits(project({ 'config/plugin.js': 'export default { gone: true };' }), 'prod', 'app', catalog), hasCode('TEST_GONE', /gone/));
    assert.ok(await resolveUnits(project({ 'config/plugin.js': 'export default { gone: false };' }), 'prod', 'app', catalog));
    await assert.rejects(
      resolveUnits(project({ 'config/plugin.js': "export default { old: { package: 'legacy-thing' } };" }), 'prod', 'app', catalog),
      hasCode('TEST_LEGACY', /old: legacy-thing is legacy/),
    );
    await assert.rejects(
      resolveUnits(project({ 'config/plugin.js': "export default { other: { package: 'not-there' } };" }), 'prod', 'app', catalog),
      hasCode('CLUTCH_ERR_PLUGIN_INVALID', /package not-there is not installed/),
    );
    const legacy = project({
      'config/plugin.js': "export default { l: { path: 'legacy' } };",
      'legacy/package.json': JSON.stringify({ legacyPlugin: { name: 'legacyOne' } }),
    });
    assert.deepEqual(
      (await resolveUnits(legacy, 'prod', 'app', catalog)).units.map((u) => u.name),
      ['legacyOne', 'app'],
    );
    const neither = project({ 'config/plugin.js': "export default { n: { path: 'neither' } };", 'neither/package.json': '{}' });
    await assert.rejects(resolveUnits(neither, 'prod', 'app', catalog), hasCode('CLUTCH_ERR_PLUGIN_INVALID', /needs "clutchPlugin"/));
  });

  it("its config defaults merge first of the plugins' (recorded as the framework's), and its check names the file that set a key", async () => {
    const root = project({
      'config/plugin.js': "export default { p: { path: 'p' } };",
      'p/package.json': JSON.stringify({ clutchPlugin: { name: 'p' } }),
      'p/config/config.default.js': "export default { tracer: { level: 'plugin' } };",
      'config/config.prod.js': 'export default { tracer: { sample: 0.5 } };',
    });
    const units = (await resolveUnits(root, 'prod', 'app', catalog)).units;
    const { config, sources } = await loadConfig(root, 'prod', units, catalog.plugins);
    assert.deepEqual(config.tracer, { level: 'plugin', env: 'prod', sample: 0.5 });
    assert.equal(sources['tracer.env'], 'framework');
    const bad = project({ 'config/config.default.js': "export default { tracer: { sample: 'all' } };" });
    await assert.rejects(
      loadConfig(bad, 'prod', undefined, catalog.plugins),
      hasCode('CLUTCH_ERR_CONFIG_INVALID', /config\.tracer\.sample must be a number, got "all" \(set in .*config\.default\.js\)/),
    );
  });

  it("its middleware go in egg's order: before the one they name, else after the rest", () => {
    assert.deepEqual(
      frameworkMiddleware([bodyParser], [tracer, gzip]).map((m) => m.name),
      ['gzip', 'bodyParser', 'tracer'],
    );
  });
});

describe("the egg wing's catalog", () => {
  it("the built-ins, turned off by config/plugin by their names, egg's keys and egg's package names", async () => {
    assert.deepEqual(names((await resolveUnits(project({}), 'prod', 'app', EGG_PLUGINS)).builtins), [
      'egg',
      'static',
      'session',
      'security',
      'multipart',
      'view',
    ]);
    const off = project({
      'config/plugin.js':
        "export default { static: false, security: { enable: false }, s: { package: 'egg-session', enable: false }, nunjucks: { enable: false }, schedule: false, egg: false };",
    });
    assert.deepEqual(names((await resolveUnits(off, 'prod', 'app', EGG_PLUGINS)).builtins), ['egg', 'multipart']);
  });

  it('their middleware: siteFile, static, the body parser, session, security — before the plugins’ and the project’s', () => {
    const on = EGG_PLUGINS.plugins;
    assert.deepEqual(
      frameworkMiddleware([bodyParser], on).map((m) => m.name),
      ['siteFile', 'static', 'bodyParser', 'session', 'security'],
    );
  });

  it('a built-in turned off brings nothing to the app (its config keys stay, typed as they are)', async () => {
    const files = { 'app/public/a.txt': 'a', 'config/config.default.js': "export default { keys: 'k' };", 'app/router.js': ROUTER };
    const on = await createApp(project(files));
    const off = await createApp(
      project({
        ...files,
        'config/plugin.js': "export default { static: false, session: { enable: false }, v: { package: 'egg-view-nunjucks', enable: false } };",
      }),
    );
    try {
      assert.equal((await on.request().get('/public/a.txt')).text, 'a');
      assert.deepEqual((await on.request().get('/probe')).body, { session: 'object', view: true, csrf: 'string', prefix: '/public/' });
      assert.equal((await off.request().get('/public/a.txt')).status, 404);
      assert.deepEqual((await off.request().get('/probe')).body, { session: 'undefined', view: false, csrf: 'string', prefix: '/public/' });
    } finally {
      await Promise.all([on.close(), off.close()]);
    }
  });

  it("a built-in's middleware takes enable, match and ignore in its config key, as every middleware does", async () => {
    const files = { 'app/public/a.txt': 'a', 'app/public/b.txt': 'b', 'app/router.js': ROUTER };
    const ignoring = await createApp(project({ ...files, 'config/config.default.js': "export default { static: { ignore: '/public/a.txt' } };" }));
    const disabled = await createApp(project({ ...files, 'config/config.default.js': 'export default { static: { enable: false } };' }));
    try {
      assert.equal((await ignoring.request().get('/public/a.txt')).status, 404);
      assert.equal((await ignoring.request().get('/public/b.txt')).text, 'b');
      assert.equal((await disabled.request().get('/public/b.txt')).status, 404);
    } finally {
      await Promise.all([ignoring.close(), disabled.close()]);
    }
  });
});

const ROUTER = `export default (app) => {
  app.router.get('/probe', (ctx) => {
    ctx.body = { session: typeof ctx.session, view: app.view !== null, csrf: typeof ctx.csrf, prefix: app.config.static.prefix };
  });
};`;
