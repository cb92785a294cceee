import { ClutchError, CoreErrorCode } from './errors.js';

function fail(action: string, path: string, what: string): never {
  throw new ClutchError(CoreErrorCode.MESSENGER_UNSERIALIZABLE, `Message "${action}" cannot be sent: ${path} is ${what}, which JSON cannot carry`);
}

function check(value: unknown, action: string, path: string, ancestors: Set<object>): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return;
    case 'number':
      if (!Number.isFinite(value)) fail(action, path, String(value));
      return;
    case 'bigint':
    case 'symbol':
    case 'function':
      fail(action, path, `a ${typeof value}`);
    // falls through: fail() never returns
    case 'object': {
      if (value === null) return;
      // Date, Buffer and anything with toJSON travel as what toJSON returns, as JSON.stringify does.
      const toJSON = (value as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') {
        let converted: unknown;
        try {
          converted = (toJSON as () => unknown).call(value);
        } catch (err) {
          fail(action, path, `an object whose toJSON throws (${(err as Error).message})`);
        }
        if (converted !== value) check(converted, action, path, ancestors);
        return;
      }
      if (ancestors.has(value)) fail(action, path, 'a circular reference');
      ancestors.add(value);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) check(value[i], action, `${path}[${i}]`, ancestors);
      } else {
        const proto = Object.getPrototypeOf(value) as object | null;
        if (proto !== Object.prototype && proto !== null) {
          const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'class';
          fail(action, path, `a ${name} instance`);
        }
        for (const key of Object.keys(value)) check((value as Record<string, unknown>)[key], action, `${path}.${key}`, ancestors);
      }
      ancestors.delete(value);
    }
  }
}

/**
 * Throws CLUTCH_ERR_MESSENGER_UNSERIALIZABLE, naming the path, when `data` holds something JSON
 * cannot carry: functions, symbols, bigints, NaN or Infinity, circular references, class instances
 * (Map, Set, …). `undefined` is dropped as JSON drops it; values with `toJSON` (Date) are converted.
 */
export function assertSerializable(data: unknown, action: string): void {
  check(data, action, 'data', new Set());
}
