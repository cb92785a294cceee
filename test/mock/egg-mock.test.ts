import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { fixture, groupMembers, waitGroupGone } from '../helpers/cluster.ts';

const PROJECT = fixture('egg-mock-project');
const FILES = [
  'test/app/controller/home.test.js',
  'test/app/controller/user.test.js',
  'test/app/service/user.test.js',
  'test/env.test.js',
  'test/cluster.test.js',
];
/** Every `it` in the files above: a runner that skipped or lost one would count fewer. */
const TESTS = 22;
const MOCHA = createRequire(import.meta.url).resolve('mocha/bin/mocha.js');

interface Run {
  code: number | null;
  out: string;
}

/** Runs a test runner in the project's folder, in a process group of its own, killed whole by the deadline. */
async function runSuite(args: string[], deadlineMs: number): Promise<Run> {
  // Not a child of this test run (NODE_TEST_CONTEXT would make node --test skip its files).
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const child = spawn(process.execPath, args, { cwd: PROJECT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...env, NODE_OPTIONS: '' } });
  const pgid = child.pid!;
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (out += s));
  const timer = setTimeout(() => process.kill(-pgid, 'SIGKILL'), deadlineMs);
  try {
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    // The suite's mm.cluster() must leave no master, agent or worker behind.
    await waitGroupGone(pgid, 5_000);
    return { code, out };
  } finally {
    clearTimeout(timer);
    if (groupMembers(pgid).length > 0) process.kill(-pgid, 'SIGKILL');
  }
}

describe('an egg project tested with egg-mock’s API (@clutch/mock), under mocha and node:test', { timeout: 120_000 }, () => {
  it('mocha: every test passes', async () => {
    // egg-bin test runs mocha with a 60 s timeout: a hook that starts a cluster needs more than mocha's 2 s.
    const run = await runSuite([MOCHA, '--timeout', '60000', '--reporter', 'json', ...FILES], 90_000);
    const json = run.out.slice(run.out.indexOf('{\n'));
    const { stats, failures } = JSON.parse(json) as {
      stats: { passes: number; failures: number; pending: number };
      failures: Array<{ fullTitle: string; err: { message: string } }>;
    };
    assert.deepEqual(
      failures.map((f) => `${f.fullTitle}: ${f.err.message}`),
      [],
    );
    assert.deepEqual({ passes: stats.passes, failures: stats.failures, pending: stats.pending }, { passes: TESTS, failures: 0, pending: 0 });
    assert.equal(run.code, 0, run.out);
  });

  it('node:test: every test passes', async () => {
    const run = await runSuite(['--test', '--test-reporter=tap', ...FILES], 90_000);
    const count = (name: string) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(run.out)?.[1]);
    assert.deepEqual({ pass: count('pass'), fail: count('fail'), skipped: count('skipped') }, { pass: TESTS, fail: 0, skipped: 0 }, run.out);
    assert.equal(run.code, 0, run.out);
  });
});
