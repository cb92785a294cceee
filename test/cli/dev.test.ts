import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startFixture, type AppProcess } from '../helpers/cluster.ts';
import { getJson } from '../helpers/http.ts';
import { copyFixture } from '../helpers/project.ts';

describe('app dev', { timeout: 90_000 }, () => {
  const project = copyFixture('reloadable');
  let app: AppProcess | undefined;
  after(() => {
    app?.kill();
    project.remove();
  });

  it('runs one worker in env local and reloads on changes; the agent only when agent-side files change', async () => {
    const started = await startFixture(project.dir, [], { command: 'dev' });
    app = started.app;
    const { info } = started;
    assert.equal(info.workers.length, 1);
    const agentBefore = (await getJson<{ pid: number; version: string }>(`${info.url}/agent-version`)).body;
    const first = (await getJson<{ version: string; env: string }>(`${info.url}/`)).body;
    assert.deepEqual([first.version, first.env], ['v1', 'local']);

    project.edit('app/controller/home.js', "const VERSION = 'v1';", "const VERSION = 'v2';");
    await app.waitForLines(/reload done/, 1, 20_000);
    assert.equal((await getJson<{ version: string }>(`${info.url}/`)).body.version, 'v2');
    assert.deepEqual((await getJson(`${info.url}/agent-version`)).body, agentBefore, 'a controller change leaves the agent alone');

    project.edit('agent.js', "const VERSION = 'v1';", "const VERSION = 'v2';");
    await app.waitForLines(/reload done/, 2, 20_000);
    const agentAfter = (await getJson<{ pid: number; version: string }>(`${info.url}/agent-version`)).body;
    assert.equal(agentAfter.version, 'v2');
    assert.notEqual(agentAfter.pid, agentBefore.pid);

    project.write('app.js', 'export default class { didLoad() { this.is.broken; } }\n');
    await app.waitForLine(/Reload stopped/, 20_000);
    const still = await getJson<{ version: string }>(`${info.url}/`);
    assert.equal(still.status, 200, 'the running worker keeps serving');
    assert.equal(still.body.version, 'v2');
  });
});
