import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
