import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixture, runApp } from '../helpers/cluster.ts';

describe('app command line', { timeout: 30_000 }, () => {
  const cases: Array<[string, string[], string]> = [
    ['an unknown flag', ['start', fixture('basic'), '--prot', '8080'], 'CLUTCH_ERR_CLI_UNKNOWN_FLAG'],
    ['a port that is not a number', ['start', fixture('basic'), '--port', 'abc'], 'CLUTCH_ERR_CLI_BAD_VALUE'],
    ['a port out of range', ['start', fixture('basic'), '--port', '70000'], 'CLUTCH_ERR_CLI_BAD_VALUE'],
    ['zero workers', ['start', fixture('basic'), '--workers', '0'], 'CLUTCH_ERR_CLI_BAD_VALUE'],
    ['a flag without its value', ['start', fixture('basic'), '--env'], 'CLUTCH_ERR_CLI_BAD_VALUE'],
    ['two directories', ['start', fixture('basic'), fixture('basic')], 'CLUTCH_ERR_CLI_BAD_VALUE'],
    ['a missing project directory', ['start', '/no/such/project'], 'CLUTCH_ERR_CLI_NO_PROJECT'],
    ['an unknown command', ['launch'], 'CLUTCH_ERR_CLI_UNKNOWN_COMMAND'],
  ];
  for (const [what, args, code] of cases) {
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
