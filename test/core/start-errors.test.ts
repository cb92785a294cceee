import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fixture, runApp, waitGroupGone } from '../helpers/cluster.ts';

describe('framework start errors name what is wrong', { timeout: 60_000 }, () => {
  // Each case names the code its run must print (`code`), as the docs check reads it (test/docs/errors.test.ts).
  const cases: Array<{ name: string; code: string; message: RegExp }> = [
    { name: 'plugin-missing-dep', code: 'CLUTCH_ERR_PLUGIN_MISSING_DEPENDENCY', message: /Plugin "cache" depends on plugin "redis", which is disabled/ },
    { name: 'plugin-cycle', code: 'CLUTCH_ERR_PLUGIN_CYCLE', message: /cycle: a → b → c → a/ },
    {
      name: 'plugin-duplicate',
      code: 'CLUTCH_ERR_PLUGIN_DUPLICATE',
      message: /Two plugins are named "session": "session" \(\S+session-v1\) and "sessionNext" \(\S+session-v2\)/,
    },
    {
      name: 'bad-cron',
      code: 'CLUTCH_ERR_SCHEDULE_INVALID',
      message: /\S+app\/schedule\/report\.js: schedule\.cron "every tuesday" is not a valid cron expression/,
    },
    {
      name: 'unknown-middleware',
      code: 'CLUTCH_ERR_MIDDLEWARE_INVALID',
      message: /Middleware "gzip" is enabled in config but no app\/middleware\/gzip file exists/,
    },
  ];
  for (const { name, code, message } of cases) {
    it(`${name}: exit 1 with ${code}, nothing left`, async () => {
      const { code: exit, stderr, app } = await runApp(['start', fixture(name), '--port', '0', '--workers', '1'], 20_000);
      assert.equal(exit, 1);
      assert.match(stderr, new RegExp(code));
      assert.match(stderr, message);
      await waitGroupGone(app.pid, 5_000);
    });
  }
});

describe('a syntax error in a project file', { timeout: 60_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'clutch-syntax-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  // Written here, not as fixtures: the formatter cannot read a file that does not parse.
  const project = (name: string, type: 'module' | 'commonjs', source: string) => {
    const dir = join(tmp, name);
    mkdirSync(join(dir, 'app', 'controller'), { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, type }));
    writeFileSync(join(dir, 'app', 'controller', 'home.js'), source);
    return dir;
  };
  for (const [type, source] of [
    ['commonjs', "module.exports = {\n  async index(ctx) {\n    ctx.body = 'x' +;\n  },\n};\n"],
    ['module', "export default {\n  async index(ctx) {\n    ctx.body = 'x' +;\n  },\n};\n"],
  ] as const) {
    it(`(${type}) is reported once, at file:line:column`, async () => {
      const dir = project(`syntax-${type}`, type, source);
      const { code, stdout, stderr, app } = await runApp(['start', dir, '--port', '0', '--workers', '1'], 20_000);
      assert.equal(code, 1);
      const file = join(dir, 'app', 'controller', 'home.js');
      assert.match(
        stderr,
        new RegExp(
          `^app start failed \\[CLUTCH_ERR_CLUSTER_WORKER_BOOT_FAILED\\]: .*Failed to load ${file}:3:21: Unexpected token ';' \\[CLUTCH_ERR_LOADER_IMPORT_FAILED\\]$`,
          'm',
        ),
      );
      const said = `${stdout}${stderr}`.split('\n').filter((l) => l.includes("Unexpected token ';'"));
      assert.equal(said.length, 1, `printed once:\n${said.join('\n')}`);
      await waitGroupGone(app.pid, 5_000);
    });
  }
});
