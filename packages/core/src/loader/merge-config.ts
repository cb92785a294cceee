export type PlainObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is PlainObject {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Deep-merges `source` into `target` the way config files layer: plain objects merge key by key,
 * everything else (arrays included) replaces. `onSet` hears the dotted path of every value set.
 * Hand-written rather than a merge library: "arrays replace" is the contract, and the provenance
 * record (which file set which key) needs the hook.
 */
export function mergeConfig(target: PlainObject, source: PlainObject, onSet?: (path: string) => void, prefix = ''): PlainObject {
  for (const key of Object.keys(source)) {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') continue;
    const value = source[key];
    const current = target[key];
    const path = prefix ? `${prefix}.${key}` : key;
    if (isPlainObject(value)) {
      target[key] = mergeConfig(isPlainObject(current) ? { ...current } : {}, value, onSet, path);
      if (Object.keys(value).length === 0) onSet?.(path);
    } else {
      target[key] = value;
      onSet?.(path);
    }
  }
  return target;
}
