import { ClutchError, MockErrorCode } from './errors.js';

/**
 * egg-mock hands out `app` before it has booted, as a stand-in that becomes the app: what `own`
 * defines (ready, close, the mock helpers) answers at once; everything else is the real object's,
 * once `real()` has one. Methods are bound to the real object (its private fields need that) and
 * kept, so `app.x === app.x`; defining and deleting go to the real object too, so `mm(app, key, v)`
 * and `mm.restore()` work on the proxy as on the app.
 */
export function forwardingProxy<T extends object>(own: object, real: () => T | null, what: string): T {
  const bound = new WeakMap<object, unknown>();
  const target = (prop: PropertyKey): T => {
    const value = real();
    if (value) return value;
    throw new ClutchError(MockErrorCode.NOT_READY, `${what}.${String(prop)} was read before ${what} was ready: await app.ready() first (in a before hook)`);
  };
  return new Proxy(own, {
    get(self, prop) {
      // Object.prototype's names (toString, constructor…) are the real object's, not the stand-in's.
      if (prop in self && !(prop in Object.prototype)) {
        const value: unknown = Reflect.get(self, prop, self);
        return typeof value === 'function' ? bindOnce(bound, value as (...a: unknown[]) => unknown, self) : value;
      }
      // Not a thenable (`await app` must not wait on it), and inspection before the boot stays quiet.
      if (prop === 'then' || typeof prop === 'symbol') return real() ? Reflect.get(real()!, prop) : undefined;
      const app = target(prop);
      const value: unknown = Reflect.get(app, prop, app);
      return typeof value === 'function' ? bindOnce(bound, value as (...a: unknown[]) => unknown, app) : value;
    },
    set: (self, prop, value) => (prop in self ? Reflect.set(self, prop, value) : Reflect.set(target(prop), prop, value)),
    has: (self, prop) => prop in self || (real() !== null && prop in real()!),
    defineProperty: (_self, prop, descriptor) => Reflect.defineProperty(target(prop), prop, descriptor),
    deleteProperty: (_self, prop) => Reflect.deleteProperty(target(prop), prop),
    getOwnPropertyDescriptor(self, prop) {
      if (Object.hasOwn(self, prop)) return Reflect.getOwnPropertyDescriptor(self, prop);
      const found = real() ? Reflect.getOwnPropertyDescriptor(real()!, prop) : undefined;
      // A proxy may not report a property non-configurable that its target lacks.
      return found ? { ...found, configurable: true } : undefined;
    },
  }) as T;
}

function bindOnce(cache: WeakMap<object, unknown>, fn: (...a: unknown[]) => unknown, self: object): unknown {
  let made = cache.get(fn) as { self: object; bound: unknown } | undefined;
  if (!made || made.self !== self) {
    made = { self, bound: fn.bind(self) };
    cache.set(fn, made);
  }
  return made.bound;
}
