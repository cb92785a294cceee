/** `app dev`'s project watcher, on a real folder: what counts as a change, debouncing, no interleaving. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isSourceChange, touchesAgent, watchProject, type ProjectWatcher } from '../../packages/cli/src/watch.ts';

describe('which changes count', () => {
  it('source files count; ignored folders, dotfiles and declarations do not', () => {
    for (const f of ['app.ts', 'app/controller/home.ts', 'config/config.default.js', 'package.json', 'agent.mjs', 'lib/util.cts'])
      assert.ok(isSourceChange(f), f);
    for (const f of [
      'node_modules/koa/index.js',
      'logs/app.log',
      'run/x.json',
      'dist/a.js',
      '.git/HEAD',
      'app/.draft.ts',
      'types/x.d.ts',
      'README.md',
      'app/public/site.css',
    ])
      assert.ok(!isSourceChange(f), f);
  });

  it('app/ (but app/schedule) and app.ts run only in the workers; the rest may run in the agent', () => {
    for (const f of ['app.ts', 'app.mjs', 'app/controller/home.ts', 'app/router.ts', 'app/extend/context.js']) assert.ok(!touchesAgent(f), f);
    for (const f of ['agent.ts', 'app/schedule/tick.ts', 'config/config.default.ts', 'lib/store.ts', 'package.json']) assert.ok(touchesAgent(f), f);
  });
});

describe('watchProject', { timeout: 20_000 }, () => {
  const dirs: string[] = [];
  const watchers: ProjectWatcher[] = [];
  after(() => {
    for (const w of watchers) w.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const project = () => {
    const dir = mkdtempSync(join(tmpdir(), 'clutch-watch-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'app', 'controller'), { recursive: true });
    mkdirSync(join(dir, 'node_modules', 'dep'), { recursive: true });
    return dir;
  };
  /** Calls to onChange, as they come; `next()` resolves with the following one. */
  const recorder = (hold?: () => Promise<void>) => {
    const calls: string[][] = [];
    const waiting: Array<(files: string[]) => void> = [];
    let active = 0;
    let overlapped = false;
    const onChange = async (files: string[]) => {
      if (++active > 1) overlapped = true;
      calls.push(files.sort());
      waiting.shift()?.(files);
      await hold?.();
      active--;
    };
    const next = (ms = 5_000) =>
      new Promise<string[]>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no change delivered within ${ms}ms (calls so far: ${JSON.stringify(calls)})`)), ms);
        waiting.push((files) => {
          clearTimeout(timer);
          resolve(files.sort());
        });
      });
    return { onChange, next, calls, overlapped: () => overlapped };
  };

  it('delivers a burst of changes once, debounced, and ignores node_modules', async () => {
    const dir = project();
    const r = recorder();
    watchers.push(watchProject(dir, r.onChange, { onError: (err) => assert.fail(err), debounceMs: 100 }));
    const delivered = r.next();
    writeFileSync(join(dir, 'node_modules', 'dep', 'index.js'), 'x');
    writeFileSync(join(dir, 'app', 'controller', 'home.js'), 'a');
    writeFileSync(join(dir, 'app', 'controller', 'home.js'), 'b');
    writeFileSync(join(dir, 'app.js'), 'c');
    assert.deepEqual(await delivered, ['app.js', join('app', 'controller', 'home.js')]);
  });

  it('watches a folder created after the start, and reports the files it came with', async () => {
    const dir = project();
    const r = recorder();
    watchers.push(watchProject(dir, r.onChange, { onError: (err) => assert.fail(err), debounceMs: 50 }));
    // A folder that arrives with its files (a checkout, a copy): written before any watch on it.
    const first = r.next();
    mkdirSync(join(dir, 'lib'));
    writeFileSync(join(dir, 'lib', 'store.js'), 'v1');
    assert.deepEqual(await first, [join('lib', 'store.js')]);
    // And it is watched from then on.
    const second = r.next();
    writeFileSync(join(dir, 'lib', 'cache.js'), 'v1');
    assert.deepEqual(await second, [join('lib', 'cache.js')]);
  });

  it('never follows a symbolic link into a loop, and watches a folder removed and made again', async () => {
    const dir = project();
    const r = recorder();
    watchers.push(watchProject(dir, r.onChange, { onError: () => {}, debounceMs: 50 }));
    // A new folder with links back up: its walk must end, and report only its own files.
    const first = r.next();
    mkdirSync(join(dir, 'lib', 'sub'), { recursive: true });
    symlinkSync('..', join(dir, 'lib', 'sub', 'up'));
    symlinkSync('../..', join(dir, 'lib', 'sub', 'top'));
    writeFileSync(join(dir, 'lib', 'sub', 'a.js'), '1');
    assert.deepEqual(await first, [join('lib', 'sub', 'a.js')]);
    // app/ goes away and comes back: what is written in the new one is seen.
    rmSync(join(dir, 'app'), { recursive: true });
    mkdirSync(join(dir, 'app'));
    let files: string[] = [];
    for (let i = 0; !files.includes(join('app', 'router.js')); i++) {
      assert.ok(i < 10, `app/router.js never reported: ${JSON.stringify(r.calls)}`);
      const delivered = r.next();
      writeFileSync(join(dir, 'app', 'router.js'), `v${i}`);
      files = await delivered;
    }
  });

  it('holds changes made while onChange runs and delivers them after it, never interleaved', async () => {
    const dir = project();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let first = true;
    const r = recorder(() => (first ? ((first = false), held) : Promise.resolve()));
    watchers.push(watchProject(dir, r.onChange, { onError: (err) => assert.fail(err), debounceMs: 50 }));
    const one = r.next();
    writeFileSync(join(dir, 'app.js'), '1');
    assert.deepEqual(await one, ['app.js']);
    // onChange is still running: this change must wait for it.
    const two = r.next();
    writeFileSync(join(dir, 'agent.js'), '2');
    await assert.rejects(Promise.race([two, new Promise((_, reject) => setTimeout(() => reject(new Error('held')), 400))]), /held/);
    release();
    assert.deepEqual(await two, ['agent.js']);
    assert.equal(r.overlapped(), false);
  });
});
