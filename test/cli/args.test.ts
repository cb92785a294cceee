import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixture, runApp } from '../helpers/cluster.ts';

describe('app command line', { timeout: 30_000 }, () => {
  // Each case names the code its run must print (`code`), as the docs check reads it (test/docs/errors.test.ts).
  const cases: Array<{ what: string; args: string[]; code: string }> = [
    { what: 'an unknown flag', args: ['start', fixture('basic'), '--prot', '8080'], code: 'CLUTCH_ERR_CLI_UNKNOWN_FLAG' },
    { what: 'a port that is not a number', args: ['start', fixture('basic'), '--port', 'abc'], code: 'CLUTCH_ERR_CLI_BAD_VALUE' },
    { what: 'a port out of range', args: ['start', fixture('basic'), '--port', '70000'], code: 'CLUTCH_ERR_CLI_BAD_VALUE' },
    { what: 'zero workers', args: ['start', fixture('basic'), '--workers', '0'], code: 'CLUTCH_ERR_CLI_BAD_VALUE' },
    { what: 'a flag without its value', args: ['start', fixture('basic'), '--env'], code: 'CLUTCH_ERR_CLI_BAD_VALUE' },
    { what: 'two directories', args: ['start', fixture('basic'), fixture('basic')], code: 'CLUTCH_ERR_CLI_BAD_VALUE' },
    { what: 'a missing project directory', args: ['start', '/no/such/project'], code: 'CLUTCH_ERR_CLI_NO_PROJECT' },
    { what: 'an unknown command', args: ['launch'], code: 'CLUTCH_ERR_CLI_UNKNOWN_COMMAND' },
  ];
  for (const { what, args, code } of cases) {
    it(`${what} is a usage error (exit 2, ${code})`, async () => {
      const result = await runApp(args, 10_000);
      assert.equal(result.code, 2);
      assert.match(result.stderr, new RegExp(code));
      assert.match(result.stderr, /Usage: app/);
    });
  }

  it('--help prints the usage and exits 0', async () => {
    const result = await runApp(['start', '--help'], 10_000);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /Usage: app start \[dir\]/);
  });
});
