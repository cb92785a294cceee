export type PlainObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is PlainObject {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Deep-merges `source` into `target` the way config files layer: plain objects merge key by key,
 * everything else (arrays included) replaces. Hand-written rather than a merge library because the
 * rule "arrays replace" is the contract, and a later change records which file set each key.
 */
export function mergeConfig(target: PlainObject, source: PlainObject): PlainObject {
  for (const key of Object.keys(source)) {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') continue;
    const value = source[key];
    const current = target[key];
    if (isPlainObject(value)) {
      target[key] = mergeConfig(isPlainObject(current) ? { ...current } : {}, value);
    } else {
      target[key] = value;
    }
  }
  return target;
}
