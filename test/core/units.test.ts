/** Coded errors of the pieces that raise them, without a cluster. */
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { normalizeOptions, type ChildTransport, type Logger } from '@clutch/cluster';
import { Leader, Messenger, loadConfig } from '@clutch/core';
import { createApp } from '@clutch/mock';
import { loadFramework } from '../../packages/cluster/src/load-framework.ts';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const transport = (connected = true): ChildTransport => ({ pid: process.pid, masterPid: process.pid, send: () => connected, onMessage() {} });
const hasCode = (code: string) => (err: unknown) => (err as { code?: string }).code === code;

describe('coded errors, piece by piece', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clutch-units-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const project = (name: string, files: Record<string, string>) => {
    const root = join(dir, name);
    for (const [file, text] of Object.entries({ 'package.json': JSON.stringify({ name, type: 'module' }), ...files })) {
      mkdirSync(join(root, file, '..'), { recursive: true });
      writeFileSync(join(root, file), text);
    }
    return root;
  };

  it('a framework key of the wrong shape: CLUTCH_ERR_CONFIG_INVALID naming the key and file', async () => {
    const root = project('bad-key', { 'config/config.default.js': "export default { hookTimeout: '5s' };" });
    await assert.rejects(
      loadConfig(root, 'prod'),
      (err: Error & { code?: string }) => err.code === 'CLUTCH_ERR_CONFIG_INVALID' && /hookTimeout.*config\.default\.js/.test(err.message),
    );
  });

  it('server limits: a headersTimeout over the requestTimeout (Node refuses it) or a bad maxHeaderSize is CLUTCH_ERR_CONFIG_INVALID; a size string is read as bytes', async () => {
    const over = project('limits-over', { 'config/config.default.js': 'export default { cluster: { requestTimeout: 1000, headersTimeout: 5000 } };' });
    await assert.rejects(
      loadConfig(over, 'prod'),
      (err: Error & { code?: string }) => err.code === 'CLUTCH_ERR_CONFIG_INVALID' && /headersTimeout.*at most cluster\.requestTimeout/.test(err.message),
    );
    const size = project('limits-size', { 'config/config.default.js': "export default { cluster: { maxHeaderSize: 'lots' } };" });
    await assert.rejects(loadConfig(size, 'prod'), hasCode('CLUTCH_ERR_CONFIG_INVALID'));
    const ok = project('limits-ok', {
      'config/config.default.js': "export default { cluster: { requestTimeout: 0, headersTimeout: 5000, maxHeaderSize: '32kb' } };",
    });
    const { config } = await loadConfig(ok, 'prod');
    assert.equal(config.cluster.maxHeaderSize, 32 * 1024);
  });

  it('cluster.overload: durations and sizes read, Retry-After whole seconds; an unknown key, no limit or a utilization over 1 is CLUTCH_ERR_CONFIG_INVALID', async () => {
    const ok = project('overload-ok', {
      'config/config.default.js':
        "export default { cluster: { overload: { maxEventLoopDelay: '200ms', maxRssBytes: '1.5gb', maxEventLoopUtilization: 0.9 } } };",
    });
    const { config } = await loadConfig(ok, 'prod');
    assert.deepEqual(config.cluster.overload, { maxEventLoopDelay: 200, maxEventLoopUtilization: 0.9, maxRssBytes: 1.5 * 1024 ** 3, retryAfter: 10_000 });
    for (const [name, overload] of [
      ['overload-typo', "{ maxEventLoopDelays: '200ms' }"],
      ['overload-none', "{ retryAfter: '5s' }"],
      ['overload-elu', '{ maxEventLoopUtilization: 1.5 }'],
    ] as const) {
      const root = project(name, { 'config/config.default.js': `export default { cluster: { overload: ${overload} } };` });
      await assert.rejects(loadConfig(root, 'prod'), hasCode('CLUTCH_ERR_CONFIG_INVALID'), name);
    }
  });

  it('a plugin that is not installed: CLUTCH_ERR_PLUGIN_INVALID', async () => {
    const root = project('bad-plugin', { 'config/plugin.js': "export default { nope: { enable: true, package: 'clutch-plugin-that-is-not-there' } };" });
    await assert.rejects(createApp(root), hasCode('CLUTCH_ERR_PLUGIN_INVALID'));
  });

  it('a router that does not import: CLUTCH_ERR_LOADER_IMPORT_FAILED naming it; one that exports no function: …_INVALID_EXPORT', async () => {
    const broken = project('bad-router', { 'app/router.js': 'export default (app) => { app.router.get("/", (ctx) => { ctx.body = 1 }' });
    await assert.rejects(
      createApp(broken),
      (err: Error & { code?: string }) => err.code === 'CLUTCH_ERR_LOADER_IMPORT_FAILED' && /router\.js/.test(err.message),
    );
    const wrong = project('wrong-router', { 'app/router.js': 'export default 42;' });
    await assert.rejects(createApp(wrong), hasCode('CLUTCH_ERR_LOADER_INVALID_EXPORT'));
  });

  it('a closed messenger and a gone master: CLUTCH_ERR_MESSENGER_CLOSED, CLUTCH_ERR_MESSENGER_DISCONNECTED', () => {
    const closed = new Messenger(transport(), { logger: quiet, pids: { agent: null, workers: [] }, requestTimeout: 100 });
    closed.close();
    assert.throws(() => closed.sendToAgent('x', 1), hasCode('CLUTCH_ERR_MESSENGER_CLOSED'));
    const orphan = new Messenger(transport(false), { logger: quiet, pids: { agent: null, workers: [] }, requestTimeout: 100 });
    assert.throws(() => orphan.sendToAgent('x', 1), hasCode('CLUTCH_ERR_MESSENGER_DISCONNECTED'));
  });

  it('a master option out of range: CLUTCH_ERR_CLUSTER_INVALID_OPTION; a framework without its exports: …_INVALID_FRAMEWORK', async () => {
    assert.throws(() => normalizeOptions({ baseDir: dir, framework: 'x', workers: 0 }), hasCode('CLUTCH_ERR_CLUSTER_INVALID_OPTION'));
    const framework = join(dir, 'not-a-framework.mjs');
    writeFileSync(framework, 'export const nothing = 1;');
    await assert.rejects(loadFramework(framework), hasCode('CLUTCH_ERR_CLUSTER_INVALID_FRAMEWORK'));
  });

  it("a leader job's signal aborts with CLUTCH_ERR_LEADER_LOST when the term ends", async () => {
    const leader = await Leader.create({ store: 'local', name: 'unit', ttl: 1_500, renewDeadline: 1_000, retryPeriod: 200 }, quiet, transport());
    const reason = new Promise<unknown>((resolve) => leader.run(({ signal }) => signal.addEventListener('abort', () => resolve(signal.reason))));
    leader.start();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(leader.isLeader, true);
    await leader.stop();
    assert.ok(hasCode('CLUTCH_ERR_LEADER_LOST')(await reason));
  });
});
