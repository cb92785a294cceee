import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { fixture, startFixture, type AppProcess } from '../helpers/cluster.ts';
import { getJson } from '../helpers/http.ts';

const WORKSPACE_MODULES = fileURLToPath(new URL('../../node_modules', import.meta.url));

describe("a project whose node_modules is a link to a workspace's (npm link, a monorepo, a container volume)", { timeout: 60_000 }, () => {
  const started: AppProcess[] = [];
  const dirs: string[] = [];
  after(() => {
    for (const app of started) app.kill();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  /** The fixture copied outside the repository, with node_modules a symlink to the workspace's. */
  function linkedCopy(name: string): string {
    const dir = mkdtempSync(join(tmpdir(), `clutch-linked-${name}-`));
    dirs.push(dir);
    cpSync(fixture(name), dir, { recursive: true, filter: (src) => !src.includes(`${name}/run`) });
    symlinkSync(WORKSPACE_MODULES, join(dir, 'node_modules'));
    return dir;
  }

  it('starts and serves: CommonJS packages imported by default from ES modules (prom-client, @koa/router) are whole', async () => {
    const dir = linkedCopy('production');
    // Its app.js does `import client from 'prom-client'; new client.Counter(…)` at the top level.
    const { app, info } = await startFixture(dir, ['--workers', '2']);
    started.push(app);
    const { status } = await getJson(`${info.url}/count`);
    assert.equal(status, 200);
  });

  it('a TypeScript project starts and serves too', async () => {
    const dir = linkedCopy('ts-project');
    const { app, info } = await startFixture(dir, ['--workers', '1']);
    started.push(app);
    const { status, body } = await getJson<{ version: string }>(`${info.url}/`);
    assert.equal(status, 200);
    assert.equal(body.version, 'v1');
  });
});
