import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startFixture, type AppProcess } from '../helpers/cluster.ts';
import { getJson } from '../helpers/http.ts';
import { descendantsOf } from '../helpers/proc.ts';
import { readFileSync } from 'node:fs';

describe(`TypeScript at the cost of JavaScript (Node ${process.version})`, { timeout: 60_000 }, () => {
  const started: AppProcess[] = [];
  after(() => {
    for (const app of started) app.kill();
  });

  it('enums, parameter properties, decorators and .js specifiers serve; the master compiles once, no other process carries a transpiler', async () => {
    const { app, info } = await startFixture('typed', ['--workers', '2']);
    started.push(app);
    const { body } = await getJson<{ color: string; greeting: string }>(`${info.url}/`);
    assert.equal(body.color, 'blue');
    assert.match(body.greeting, /^hello from typed \(#\d+\)$/);
    assert.match(app.stdout, new RegExp(`\\[master:${info.pid}\\] typescript: \\d+ files, \\d+ compiled now`));
    for (const pid of [info.agent, ...info.workers]) {
      assert.match(
        app.stdout,
        new RegExp(`\\[(agent|worker):${pid}\\] typescript: loaded as the JavaScript the master compiled .*no transpiler here`),
        `the loader line of ${pid}`,
      );
    }
    const commands = descendantsOf(info.pid).map((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
    assert.ok(!commands.some((c) => c.includes('esbuild')), `no esbuild service in the tree: ${commands.join(' | ')}`);
    assert.ok(!app.stdout.includes('not in the compiled cache'), 'no process compiled anything');
  });
});
