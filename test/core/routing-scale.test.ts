/**
 * A real cluster with 1,750 routes (250 egg resources, test/fixtures/many-routes) answers as
 * @koa/router would through the radix tree (docs/routing.md): a different id on each request, the
 * right action and params, 405 with Allow, 501, 404, and a router.use() only under its path.
 */
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { ClusterReadyInfo } from '@clutch/cluster';
import { startFixture, type AppProcess } from '../helpers/cluster.ts';

interface Reply {
  status: number;
  allow: string | undefined;
  body: { action: string; id: string | null; route: string; seen: string | null } | null;
}

const agent = new Agent({ keepAlive: true, maxSockets: 4 });

function send(url: string, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => {
        const json = (res.headers['content-type'] ?? '').includes('json');
        resolve({ status: res.statusCode ?? 0, allow: res.headers.allow, body: json ? (JSON.parse(text) as Reply['body']) : null });
      });
    });
    req.setTimeout(5_000, () => req.destroy(new Error(`no answer to ${method} ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

describe('1,750 routes in a real cluster', { timeout: 60_000 }, () => {
  let app: AppProcess;
  let info: ClusterReadyInfo;
  before(async () => {
    ({ app, info } = await startFixture('many-routes', ['--workers', '2']));
  });
  after(() => {
    agent.destroy();
    app?.kill();
  });

  it('a different resource and id on each request reaches its action, with its params', async () => {
    for (let n = 0; n < 300; n++) {
      const i = (n * 97) % 250;
      const id = `${n}-${i}x`;
      const show = await send(`${info.url}/r${i}/${id}`);
      assert.deepEqual(show.body, { action: 'show', id, route: `/r${i}/:id`, seen: i === 7 ? 'r7 middleware' : null }, `GET /r${i}/${id}`);
    }
    assert.deepEqual((await send(`${info.url}/r249/new`)).body?.action, 'new');
    assert.deepEqual((await send(`${info.url}/R12/caf%C3%A9/edit`)).body, { action: 'edit', id: 'café', route: '/r12/:id/edit', seen: null });
    assert.deepEqual((await send(`${info.url}/r3/5`, 'PATCH')).body?.action, 'update');
    assert.deepEqual((await send(`${info.url}/r3/5`, 'PUT')).body?.action, 'update');
    assert.deepEqual((await send(`${info.url}/r3/5`, 'DELETE')).body?.action, 'destroy');
    assert.deepEqual((await send(`${info.url}/r3`, 'POST')).body?.action, 'create');
  });

  it('405 with the Allow of that path, 501 for a method no route has, 404 for no route', async () => {
    const refused = await send(`${info.url}/r200/9`, 'POST');
    assert.equal(refused.status, 405);
    assert.equal(refused.allow, 'HEAD, GET, PATCH, PUT, DELETE');
    assert.equal((await send(`${info.url}/r200/9`, 'SEARCH')).status, 501);
    assert.equal((await send(`${info.url}/r250/9`)).status, 404);
    assert.equal((await send(`${info.url}/r1/9/edit/more`)).status, 404);
  });
});
