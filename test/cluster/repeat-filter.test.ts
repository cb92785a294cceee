import assert from 'node:assert/strict';
import { it } from 'node:test';
import { RepeatFilter } from '@clutch/cluster';

it('RepeatFilter logs the first lines of each kind per window, counts the rest, and reports the count when the window closes', async () => {
  const filter = new RepeatFilter({ windowMs: 50, perKey: 2, total: 3, maxKeys: 2 });
  const summaries: Array<[string, number]> = [];
  const admit = (key: string) => filter.admit(key, (n) => summaries.push([key, n]));
  assert.deepEqual([admit('a'), admit('a'), admit('a'), admit('a')], [true, true, false, false], 'two per kind');
  assert.equal(admit('b'), true, 'a second kind has its own share');
  assert.equal(admit('b'), false, 'but the total of three is reached');
  assert.equal(admit('c'), false, 'a third kind shares the overflow bucket');
  await new Promise((r) => setTimeout(r, 80));
  assert.deepEqual(summaries, [
    ['a', 2],
    ['b', 1],
    ['c', 1],
  ]);
  assert.equal(admit('a'), true, 'a new window starts fresh');
});
