import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createApp, type MockApp } from '@clutch/mock';

const dir = fileURLToPath(new URL('..', import.meta.url));

describe('showcase', () => {
  let mock: MockApp;
  before(async () => {
    mock = await createApp(dir, { env: 'local' });
  });
  after(() => mock.close());

  it('converts a price with the rates the agent pushed to the worker', async () => {
    const res = await mock.request().get('/price/100?to=USD').expect(200);
    assert.equal(res.body.from, 'EUR');
    assert.ok(res.body.result > 90 && res.body.result < 130);
    assert.ok(res.body.version >= 1);
  });

  it('refuses an unknown currency with a 400 that says which are known', async () => {
    const res = await mock.request().get('/price/100?to=toString').expect(400);
    assert.match(res.body.error.message, /Unknown currency toString; known: USD, GBP, JPY/);
  });

  it('tags every response with a request id, keeping the client’s', async () => {
    const res = await mock.request().get('/').set('x-request-id', 'abc-123').expect(200);
    assert.equal(res.headers['x-request-id'], 'abc-123');
    assert.equal(res.body.message, 'Welcome to showcase (local)');
  });

  it('answers the feed stats from the agent', async () => {
    const res = await mock.request().get('/rates/stats').expect(200);
    assert.equal(res.body.subscribers, 1);
    assert.ok(res.body.fetches >= 1);
  });
});
