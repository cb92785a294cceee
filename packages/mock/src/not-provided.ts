import { ClutchError, MockErrorCode } from './errors.js';

/**
 * egg-mock names the kit does not have: reading one throws CLUTCH_ERR_NOT_PROVIDED with what to
 * use instead, never a TypeError on `undefined`.
 */
export function notProvided(owner: object, where: string, names: Record<string, string>): void {
  for (const [name, instead] of Object.entries(names)) {
    Object.defineProperty(owner, name, {
      configurable: true,
      get() {
        throw new ClutchError(MockErrorCode.NOT_PROVIDED, `egg-mock's ${where}.${name} is not provided by @clutch/mock: use ${instead} (docs/testing.md)`);
      },
    });
  }
}
