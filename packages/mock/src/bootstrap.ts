/**
 * `@clutch/mock/bootstrap`, as egg-mock's: importing it makes the app of the project in the cwd and
 * installs the hooks a test file needs — the app ready before the first test, `mm.restore()` after
 * each, the app closed after the last — in mocha (its globals) or node:test alike; under node:test
 * it also gives the file mocha's globals (`describe`, `it`, hooks) as node:test's. Unlike every other
 * module here, importing this one does something: that is its purpose.
 *
 * @example
 * const { app, mock, assert } = require('@clutch/mock/bootstrap');
 * it('GET /', () => app.httpRequest().get('/').expect(200));
 */
import assert from 'node:assert';
import * as nodeTest from 'node:test';
import type { MockApplication } from './egg-app.js';
import mm from './mm.js';

/** mocha's hook `this`: how long a hook may take. */
interface MochaHookContext {
  timeout(ms: number): void;
}
type MochaHook = (fn: (this: MochaHookContext) => unknown) => void;
interface Hooks {
  before(fn: () => unknown): void;
  afterEach(fn: () => unknown): void;
  after(fn: () => unknown): void;
}

/** Booting a project can take longer than mocha's 2 s default. */
const BOOT_TIMEOUT = 60_000;

function hooks(): Hooks {
  const g = globalThis as { before?: MochaHook; afterEach?: MochaHook; after?: MochaHook };
  if (typeof g.before === 'function' && typeof g.afterEach === 'function' && typeof g.after === 'function') {
    const { before, afterEach, after } = g as Required<typeof g>;
    const withTimeout = (hook: MochaHook) => (fn: () => unknown) =>
      hook(function (this: MochaHookContext) {
        this.timeout(BOOT_TIMEOUT);
        return fn();
      });
    return { before: withTimeout(before), afterEach: withTimeout(afterEach), after: withTimeout(after) };
  }
  // node:test: an egg suite calls mocha's globals (describe, it, before…); they become node:test's,
  // so the same files run under `node --test` unchanged. A global already there is left alone.
  const globals = globalThis as Record<string, unknown>;
  for (const name of ['describe', 'it', 'before', 'after', 'beforeEach', 'afterEach'] as const) globals[name] ??= nodeTest[name];
  return { before: (fn) => nodeTest.before(fn), afterEach: (fn) => nodeTest.afterEach(fn), after: (fn) => nodeTest.after(fn) };
}

const app: MockApplication = mm.app();
const installed = hooks();
installed.before(() => app.ready());
installed.afterEach(() => mm.restore());
installed.after(() => app.close());

export { app, mm as mock, mm, assert };
