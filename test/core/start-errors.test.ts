import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fixture, runApp, waitGroupGone } from '../helpers/cluster.ts';

describe('framework start errors name what is wrong', { timeout: 60_000 }, () => {
  const cases: Array<[string, string, RegExp]> = [
    ['plugin-missing-dep', 'CLUTCH_ERR_PLUGIN_MISSING_DEPENDENCY', /Plugin "cache" depends on plugin "redis", which is disabled/],
    ['plugin-cycle', 'CLUTCH_ERR_PLUGIN_CYCLE', /cycle: a → b → c → a/],
    ['plugin-duplicate', 'CLUTCH_ERR_PLUGIN_DUPLICATE', /Two plugins are named "session": "session" \(\S+session-v1\) and "sessionNext" \(\S+session-v2\)/],
    ['bad-cron', 'CLUTCH_ERR_SCHEDULE_INVALID', /\S+app\/schedule\/report\.js: schedule\.cron "every tuesday" is not a valid cron expression/],
    ['unknown-middleware', 'CLUTCH_ERR_MIDDLEWARE_INVALID', /Middleware "gzip" is enabled in config but no app\/middleware\/gzip file exists/],
  ];
  for (const [name, code, message] of cases) {
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
