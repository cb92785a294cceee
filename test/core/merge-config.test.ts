/** How config layers merge, and what a schedule's interval may say. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPlainObject, mergeConfig } from '../../packages/core/src/loader/merge-config.ts';
import { parseInterval } from '../../packages/core/src/schedule.ts';

describe('mergeConfig', () => {
  it('merges plain objects key by key; arrays and everything else replace', () => {
    const target = { a: { x: 1, y: [1, 2] }, b: 'keep', list: [1, 2, 3] };
    mergeConfig(target, { a: { y: [9], z: true }, list: [4] });
    assert.deepEqual(target, { a: { x: 1, y: [9], z: true }, b: 'keep', list: [4] });
  });

  it('reports the dotted path of every value it sets, an empty object included', () => {
    const paths: string[] = [];
    mergeConfig({}, { a: { b: 1, c: {} }, d: null }, (p) => paths.push(p));
    assert.deepEqual(paths, ['a.b', 'a.c', 'd']);
  });

  it('does not let a layer reach the prototype', () => {
    const target: Record<string, unknown> = {};
    mergeConfig(target, JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"x": 1}}') as Record<string, unknown>);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(Object.keys(target), []);
  });

  it('does not share nested objects with the layer merged in', () => {
    const layer = { a: { b: 1 } };
    const target = mergeConfig({}, layer);
    (target.a as { b: number }).b = 2;
    assert.equal(layer.a.b, 1);
  });

  it('isPlainObject: literals and null-prototype objects only', () => {
    assert.equal(isPlainObject({}), true);
    assert.equal(isPlainObject(Object.create(null)), true);
    for (const v of [[], new Map(), new Date(), null, 'x', 1]) assert.equal(isPlainObject(v), false);
  });
});

describe('parseInterval', () => {
  it('reads ms and five units', () => {
    assert.deepEqual(['500ms', '10s', '1.5s', '5m', '1h', '1d', ' 2 s '].map(parseInterval), [500, 10_000, 1_500, 300_000, 3_600_000, 86_400_000, 2_000]);
    assert.equal(parseInterval(250), 250);
  });
  it('refuses anything else', () => {
    for (const v of ['10', '1w', '-1s', '0s', 'soon', 0, -5, Number.NaN, Infinity]) assert.equal(parseInterval(v), null, String(v));
  });
});
