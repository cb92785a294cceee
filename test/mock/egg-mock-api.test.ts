import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import mm, { type MockApplication } from '@clutch/mock';
import { fixture } from '../helpers/cluster.ts';

const coded = (code: string, pattern?: RegExp) => (err: Error & { code?: string }) => err.code === code && (!pattern || pattern.test(err.message));

describe('@clutch/mock speaks egg-mock: what it refuses, and how', () => {
  let app: MockApplication;
  before(() => {
    app = mm.app({ baseDir: fixture('egg-mock-project') });
    // Used before it is ready: a coded error naming the fix, not a TypeError on undefined.
    assert.throws(() => app.config, coded('CLUTCH_ERR_MOCK_NOT_READY', /await app\.ready\(\)/));
    assert.throws(() => app.httpRequest(), coded('CLUTCH_ERR_MOCK_NOT_READY'));
    return app.ready();
  });
  after(() => app.close());

  it('the same baseDir and env give the same app; cache: false a new one', async () => {
    assert.equal(mm.app({ baseDir: fixture('egg-mock-project') }), app);
    const other = mm.app({ baseDir: fixture('egg-mock-project'), cache: false });
    assert.notEqual(other, app);
    await other.close();
  });

  it('a relative baseDir is under <cwd>/test/fixtures, as egg-mock’s; one that is not there is refused', () => {
    // The test runs from the repository's root, where test/fixtures/egg-mock-project is the same project.
    assert.equal(mm.app({ baseDir: 'egg-mock-project' }), app);
    assert.throws(() => mm.app({ baseDir: 'no-such-project-here' }), coded('CLUTCH_ERR_MOCK_INVALID', /test\/fixtures\/no-such-project-here/));
  });

  it('mockService on a name the project lacks says what it has', () => {
    assert.throws(() => app.mockService('nope', 'find', 1), coded('CLUTCH_ERR_MOCK_UNKNOWN_SERVICE', /it has: user/));
    assert.throws(() => app.mockServiceError('user', 'nope'), coded('CLUTCH_ERR_MOCK_UNKNOWN_SERVICE', /no method "nope"/));
  });

  it('arguments a helper cannot take are CLUTCH_ERR_MOCK_INVALID', () => {
    assert.throws(() => mm.env(''), coded('CLUTCH_ERR_MOCK_INVALID'));
    assert.throws(() => app.mockHttpclient('http://x.test/', 'get', undefined as never), coded('CLUTCH_ERR_MOCK_INVALID'));
  });

  it('egg-mock options and names the kit lacks are CLUTCH_ERR_NOT_PROVIDED with the replacement', async () => {
    assert.throws(() => mm.app({ framework: '/path/to/framework' }), coded('CLUTCH_ERR_NOT_PROVIDED', /baseDir/));
    assert.throws(() => (app as unknown as { mockAgentRestore: unknown }).mockAgentRestore, coded('CLUTCH_ERR_NOT_PROVIDED', /mm\.restore\(\)/));
    assert.throws(() => (app as unknown as { mockRequest: unknown }).mockRequest, coded('CLUTCH_ERR_NOT_PROVIDED', /mockContext/));
    assert.throws(() => (mm as unknown as { consoleLevel: unknown }).consoleLevel, coded('CLUTCH_ERR_NOT_PROVIDED', /CLUTCH_LOG_LEVEL/));
    const cluster = mm.cluster({ baseDir: fixture('egg-mock-project') });
    assert.throws(() => (cluster as unknown as { expect: unknown }).expect, coded('CLUTCH_ERR_NOT_PROVIDED', /close\(\)/));
    assert.throws(() => cluster.url, coded('CLUTCH_ERR_MOCK_NOT_READY'));
    await cluster.close();
  });

  it('expectLog fails as an assertion, showing what was logged', async () => {
    app.mockLog();
    await app.httpRequest().get('/').expect(200);
    assert.throws(
      () => app.expectLog('never logged'),
      (err: Error) => err.name === 'AssertionError' && /home visited/.test(err.message),
    );
    assert.throws(
      () => app.notExpectLog(/home visited/),
      (err: Error) => err.name === 'AssertionError',
    );
  });

  it('require("@clutch/mock") is the mm function, as require("egg-mock") is', () => {
    const required = createRequire(import.meta.url)('@clutch/mock') as typeof mm & { createApp: unknown };
    assert.equal(typeof required, 'function');
    assert.equal(typeof required.app, 'function');
    assert.equal(typeof required.restore, 'function');
    assert.equal(typeof required.createApp, 'function');
  });
});
