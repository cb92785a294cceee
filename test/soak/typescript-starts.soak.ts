/** Soak: the TypeScript cache under repeated starts (test/run-soak.js): five starts, each a chance for a temp-file race. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startFixture, type AppProcess } from '../helpers/cluster.ts';
import { getJson } from '../helpers/http.ts';
import { copyFixture } from '../helpers/project.ts';

type Home = { pid: number; version: string; greeting: string };

describe('the TypeScript cache under repeated starts', { timeout: 120_000 }, () => {
  const started: AppProcess[] = [];
  const copies: Array<{ remove(): void }> = [];
  after(() => {
    for (const app of started) app.kill();
    for (const c of copies) c.remove();
  });

  it("egg's identical config.local.ts and config.prod.ts, started five times from a new cache: no temp-file race, every start serves", async () => {
    const project = copyFixture('ts-project');
    copies.push(project);
    rmSync(join(project.dir, 'run'), { recursive: true, force: true });
    assert.equal(
      readFileSync(join(project.dir, 'config/config.local.ts'), 'utf8'),
      readFileSync(join(project.dir, 'config/config.prod.ts'), 'utf8'),
      'the two env files are byte-identical',
    );
    for (let round = 1; round <= 5; round++) {
      const { app, info } = await startFixture(project.dir, ['--workers', '1']);
      started.push(app);
      const { status, body } = await getJson<Home>(`${info.url}/`);
      assert.equal(status, 200, `round ${round}`);
      assert.equal(body.greeting, 'hello');
      app.signal('SIGTERM');
      assert.equal((await app.waitForExit(15_000)).code, 0);
      const output = app.stdout + app.stderr;
      assert.doesNotMatch(output, /ENOENT|\.tmp|Unexpected token/, `round ${round}: no cache race:\n${output}`);
      assert.doesNotMatch(output, /not in the compiled cache|CACHE_UNWRITABLE/, `round ${round}: every process found what the master compiled`);
    }
    const entries = readdirSync(join(project.dir, 'run/ts-cache'));
    assert.equal(entries.filter((e) => e.endsWith('.js')).length, 5, `one entry per file, the identical two apart: ${entries.join(', ')}`);
    assert.deepEqual(
      entries.filter((e) => e.endsWith('.tmp')),
      [],
      'no temp file left behind',
    );
  });
});
