/** The restart policy, without processes. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff } from '../../packages/cluster/src/supervisor.ts';
import { killedFromOutside } from '../../packages/cluster/src/child-boot.ts';

const OPTIONS = { base: 250, cap: 5_000, stableAfter: 15_000 };

describe('Backoff', () => {
  it('replaces the first death at once, then doubles from the base up to the cap', () => {
    const b = new Backoff(OPTIONS);
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 8].map(() => b.next(100)),
      [0, 250, 500, 1_000, 2_000, 4_000, 5_000, 5_000],
    );
    assert.equal(b.streak, 8);
  });

  it('a process that stayed up long enough starts a new streak', () => {
    const b = new Backoff(OPTIONS);
    b.next(100);
    b.next(100);
    assert.equal(b.next(15_000), 0);
    assert.equal(b.streak, 1);
  });

  it('a death that says nothing about the code is replaced at once and leaves the streak alone', () => {
    const b = new Backoff(OPTIONS);
    b.next(100);
    b.next(100);
    assert.equal(b.next(100, false), 0);
    assert.equal(b.streak, 2);
    assert.equal(b.next(100), 500, 'the streak goes on where it was');
  });
});

describe('killedFromOutside', () => {
  const handle = (leftOnItsOwn: boolean) => ({ leftOnItsOwn }) as Parameters<typeof killedFromOutside>[0];
  it('SIGKILL is from outside; a crash is not; a clean exit only after the process said it was leaving', () => {
    assert.equal(killedFromOutside(handle(false), null, 'SIGKILL'), true);
    assert.equal(killedFromOutside(handle(false), 1, null), false);
    assert.equal(killedFromOutside(handle(false), null, 'SIGABRT'), false);
    assert.equal(killedFromOutside(handle(false), 0, null), false, 'process.exit(0) nobody asked for');
    assert.equal(killedFromOutside(handle(true), 0, null), true, 'drained after a SIGTERM from someone else');
  });
});
