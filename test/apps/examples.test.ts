import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { startFixture, type AppProcess } from '../helpers/cluster.ts';
import { getJson } from '../helpers/http.ts';

const app = (name: string) => fileURLToPath(new URL(`../../apps/${name}`, import.meta.url));

describe('the example apps start and answer', { timeout: 60_000 }, () => {
  const started: AppProcess[] = [];
  after(() => {
    for (const a of started) a.kill();
  });

  it('apps/hello: the greeting, and the agent counting every request of every worker', async () => {
    const { app: proc, info } = await startFixture(app('hello'), ['--workers', '2', '--title', `hello-test-${process.pid}`]);
    started.push(proc);
    const home = await getJson<{ message: string; env: string; worker: number }>(`${info.url}/`);
    assert.equal(home.status, 200);
    assert.deepEqual([home.body.message, home.body.env], ['Hello from hello', 'prod']);
    assert.ok(info.workers.includes(home.body.worker));
    await getJson(`${info.url}/`);
    const stats = await getJson<{ hits: number; workers: number[] }>(`${info.url}/stats`);
    assert.ok(stats.body.hits >= 3, `the agent counted ${stats.body.hits} hits`);
    assert.deepEqual([...stats.body.workers].sort(), [...info.workers].sort());
  });

  it('apps/showcase: env config, the request-id middleware, a service on the agent-fed rates plugin', async () => {
    const { app: proc, info } = await startFixture(app('showcase'), ['--workers', '2', '--env', 'local', '--title', `showcase-test-${process.pid}`]);
    started.push(proc);
    const home = await getJson<{ message: string; env: string }>(`${info.url}/`);
    assert.deepEqual([home.body.message, home.body.env], ['Welcome to showcase (local)', 'local']);
    assert.match(String(home.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    const price = await getJson<{ amount: number; from: string; to: string; result: number; version: number }>(`${info.url}/price/100?to=USD`);
    assert.equal(price.status, 200);
    assert.equal(price.body.from, 'EUR');
    assert.ok(price.body.result > 90 && price.body.result < 130, `100 EUR is ${price.body.result} USD`);
    assert.ok(price.body.version >= 1, 'the worker got the rates the agent pushed');
    const unknown = await getJson<{ error: { message: string } }>(`${info.url}/price/100?to=XXX`);
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.error.message, /Unknown currency XXX/);
    const stats = await getJson<{ fetches: number; subscribers: number }>(`${info.url}/rates/stats`);
    assert.equal(stats.body.subscribers, 2);
  });
});
