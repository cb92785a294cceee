/** The lifecycle without a project: order, reverse close, timeouts and failures, named. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Logger } from '@clutch/cluster';
import { Lifecycle } from '../../packages/core/src/lifecycle.ts';

const quiet: Logger & { errors: string[] } = {
  errors: [],
  debug() {},
  info() {},
  warn() {},
  error(m: string, ...a: unknown[]) {
    this.errors.push([m, ...a].join(' '));
  },
};

describe('Lifecycle', () => {
  it('runs each hook across the boots in load order, beforeClose in reverse, one phase after another', async () => {
    const seen: string[] = [];
    const life = new Lifecycle({ logger: quiet, timeout: 1_000 });
    for (const name of ['plugin', 'app']) {
      life.add({ name, hooks: { didLoad: async () => void seen.push(`${name}.didLoad`), beforeClose: () => void seen.push(`${name}.beforeClose`) } });
    }
    await Promise.all([life.run('didLoad'), life.run('beforeClose')]);
    assert.deepEqual(seen, ['plugin.didLoad', 'app.didLoad', 'app.beforeClose', 'plugin.beforeClose']);
    assert.equal(life.timings.length, 4);
  });

  it('a hook past its timeout fails the phase with CLUTCH_ERR_LIFECYCLE_HOOK_TIMEOUT naming it', async () => {
    const life = new Lifecycle({ logger: quiet, timeout: 30 });
    life.add({ name: 'app.ts', hooks: { willReady: () => new Promise(() => {}) } });
    await assert.rejects(
      life.run('willReady'),
      (err: Error & { code?: string }) => err.code === 'CLUTCH_ERR_LIFECYCLE_HOOK_TIMEOUT' && /willReady in app\.ts/.test(err.message),
    );
  });

  it('a hook that throws fails the phase with CLUTCH_ERR_LIFECYCLE_HOOK_FAILED and its cause; the next boots do not run', async () => {
    const seen: string[] = [];
    const life = new Lifecycle({ logger: quiet, timeout: 1_000 });
    life.add({
      name: 'a',
      hooks: {
        didLoad: () => {
          throw new Error('broken');
        },
      },
    });
    life.add({ name: 'b', hooks: { didLoad: () => void seen.push('b') } });
    await assert.rejects(
      life.run('didLoad'),
      (err: Error & { code?: string; cause?: Error }) => err.code === 'CLUTCH_ERR_LIFECYCLE_HOOK_FAILED' && err.cause?.message === 'broken',
    );
    assert.deepEqual(seen, []);
  });

  it('beforeClose runs every boot even when one fails, and never throws', async () => {
    const seen: string[] = [];
    const life = new Lifecycle({ logger: quiet, timeout: 1_000 });
    life.add({ name: 'a', hooks: { beforeClose: () => void seen.push('a') } });
    life.add({
      name: 'b',
      hooks: {
        beforeClose: () => {
          throw new Error('b fails');
        },
      },
    });
    await life.run('beforeClose');
    assert.deepEqual(seen, ['a']);
    assert.ok(quiet.errors.some((e) => /b fails/.test(e)));
  });
});
