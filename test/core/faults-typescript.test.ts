import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runApp, startFixture, type AppProcess } from '../helpers/cluster.ts';
import { fromEveryWorker, getJson } from '../helpers/http.ts';
import { copyFixture } from '../helpers/project.ts';

type Home = { pid: number; version: string; greeting: string };

/** Fills the filesystem holding `dir` until even a one-byte write fails with ENOSPC. */
function fill(dir: string): void {
  for (const [name, size] of [
    ['filler', 4096],
    ['filler-tail', 1],
  ] as const) {
    const fd = openSync(join(dir, name), 'w');
    const chunk = Buffer.alloc(size, 120);
    try {
      for (;;) writeSync(fd, chunk);
    } catch (err) {
      assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
    } finally {
      closeSync(fd);
    }
  }
}

describe('the TypeScript cache never serves old code and never corrupts itself', { timeout: 120_000 }, () => {
  const started: AppProcess[] = [];
  const copies: Array<{ remove(): void }> = [];
  const mounts: string[] = [];
  after(() => {
    for (const app of started) app.kill();
    for (const dir of mounts) execFileSync('umount', ['-l', dir]);
    for (const c of copies) c.remove();
  });

  // egg's identical env config files started five times from a new cache: a soak test (test/soak/typescript-starts.soak.ts).
  it('a corrupt or foreign cache entry is compiled again, never served and never fatal', async () => {
    const project = copyFixture('ts-project');
    copies.push(project);
    rmSync(join(project.dir, 'run'), { recursive: true, force: true });
    const first = await startFixture(project.dir, ['--workers', '1']);
    started.push(first.app);
    first.app.signal('SIGTERM');
    await first.app.waitForExit(15_000);
    // Every entry torn in the middle, as a crash mid-write or a bad disk would leave it.
    const cache = join(project.dir, 'run/ts-cache');
    for (const name of readdirSync(cache)) {
      const path = join(cache, name);
      const text = readFileSync(path, 'utf8');
      writeFileSync(path, `${text.slice(0, text.length / 2)} = = broken`);
    }
    const { app, info } = await startFixture(project.dir, ['--workers', '1']);
    started.push(app);
    const { status, body } = await getJson<Home>(`${info.url}/`);
    assert.equal(status, 200);
    assert.equal(body.version, 'v1');
    assert.match(app.stdout, /typescript: 5 files, 5 compiled now/, 'the master compiled every torn entry again');
  });

  it('a full run/ts-cache with an edit: reload and start exit 0 only with the new code serving in every worker, and say the cache is unwritable', async () => {
    const project = copyFixture('ts-project');
    copies.push(project);
    const cache = join(project.dir, 'run/ts-cache');
    rmSync(join(project.dir, 'run'), { recursive: true, force: true });
    // Not identical here: this test is about a cache that cannot be written, not about the race above.
    project.write('config/config.prod.ts', `// prod\n${readFileSync(join(project.dir, 'config/config.prod.ts'), 'utf8')}`);
    mkdirSync(cache, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0755', 'tmpfs', cache]);
    mounts.push(cache);
    const { app, info } = await startFixture(project.dir, ['--workers', '2']);
    started.push(app);
    for (const answer of (await fromEveryWorker<Home>(`${info.url}/`, info.workers)).values()) assert.equal(answer.version, 'v1');

    fill(cache);
    project.edit('app/controller/home.ts', "const VERSION: string = 'v1';", "const VERSION: string = 'v2';");
    const reload = await runApp(['reload', project.dir], 60_000);
    assert.equal(reload.code, 0, reload.stderr);
    const status = JSON.parse((await runApp(['status', project.dir, '--json'], 10_000)).stdout) as { workers: { pid: number }[] };
    const answers = await fromEveryWorker<Home>(
      `${info.url}/`,
      status.workers.map((w) => w.pid),
    );
    for (const answer of answers.values()) assert.equal(answer.version, 'v2', `worker ${answer.pid} serves the code on disk`);
    assert.match(app.stdout + app.stderr, /CLUTCH_ERR_TYPESCRIPT_CACHE_UNWRITABLE.*ENOSPC/, 'the master says why it could not write the cache');
    assert.match(
      app.stdout + app.stderr,
      /typescript: .*home\.ts is not in the compiled cache; compiling it in this process/,
      'the workers say they compiled it',
    );

    app.signal('SIGTERM');
    assert.equal((await app.waitForExit(20_000)).code, 0);
    project.edit('app/controller/home.ts', "const VERSION: string = 'v2';", "const VERSION: string = 'v3';");
    const again = await startFixture(project.dir, ['--workers', '1']);
    started.push(again.app);
    assert.equal((await getJson<Home>(`${again.info.url}/`)).body.version, 'v3', 'a start with the cache still full serves the code on disk');
  });
});
