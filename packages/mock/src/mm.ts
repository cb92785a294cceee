import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import mmLib, { classMethod, data, datas, empty, error, errorOnce, http, https, isMocked, restore, spy, syncData, syncEmpty, syncError } from 'mm';
import { eggMockApp, type MockApplication } from './egg-app.js';
import { MockCluster, type MockClusterOptions } from './egg-cluster.js';
import { ClutchError, MockErrorCode } from './errors.js';
import { notProvided } from './not-provided.js';

export interface MockAppOptions {
  /** The project: absolute, or (as egg-mock's) relative to `<cwd>/test/fixtures`; default the cwd. */
  baseDir?: string;
  /** The config env (default: the one `mm.env()` set, else `unittest`). */
  env?: string;
  /** `false`: a new app even if one for this baseDir and env is running (default: the same one, as egg-mock). */
  cache?: boolean;
  /** egg-mock's: not taken (see docs/testing.md). */
  framework?: unknown;
  plugins?: unknown;
  plugin?: unknown;
}

const running = new Map<string, MockApplication>();

function baseDirOf(baseDir: string | undefined): string {
  if (!baseDir) return process.cwd();
  return isAbsolute(baseDir) ? baseDir : join(process.cwd(), 'test', 'fixtures', baseDir);
}

function envOf(env: string | undefined): string {
  return env ?? process.env.EGG_MOCK_SERVER_ENV ?? 'unittest';
}

/**
 * egg-mock's `mm.app(options)`: the project in this process (createApp), handed out at once;
 * `await app.ready()` before using it. The same baseDir and env give the same app until it is
 * closed, as egg-mock's cache does.
 */
function app(options: MockAppOptions = {}): MockApplication {
  for (const name of ['framework', 'plugins', 'plugin'] as const) {
    if (options[name] !== undefined && options[name] !== true) {
      throw new ClutchError(
        MockErrorCode.NOT_PROVIDED,
        `mm.app({ ${name} }) is egg-mock's: @clutch/mock boots the project at baseDir with its own config/plugin (point baseDir at a fixture project that enables what you need)`,
      );
    }
  }
  const dir = baseDirOf(options.baseDir);
  // A mistyped baseDir would otherwise boot an empty project and fail later as 404s.
  if (!existsSync(dir))
    throw new ClutchError(MockErrorCode.INVALID, `mm.app({ baseDir }): ${dir} does not exist (a relative baseDir is under <cwd>/test/fixtures, as egg-mock's)`);
  const env = envOf(options.env);
  const key = `${dir}\0${env}`;
  const cached = options.cache === false ? undefined : running.get(key);
  if (cached) return cached;
  const made: MockApplication = eggMockApp(dir, env, () => {
    if (running.get(key) === made) running.delete(key);
  });
  if (options.cache !== false) running.set(key, made);
  return made;
}

/** egg-mock's `mm.cluster(options)`: the project as a real cluster (`app start --port 0`), one worker by default. */
function cluster(options: MockClusterOptions = {}): MockCluster {
  return new MockCluster(baseDirOf(options.baseDir), { ...options, env: envOf(options.env) });
}

/** egg-mock's `mm.env(name)`: apps and clusters made from here boot in `name` (until mm.restore()). */
function env(name: string): void {
  if (typeof name !== 'string' || !name) throw new ClutchError(MockErrorCode.INVALID, `mm.env(${String(name)}): give the env's name, e.g. mm.env('prod')`);
  mmLib(process.env, 'EGG_MOCK_SERVER_ENV', name);
  mmLib(process.env, 'EGG_SERVER_ENV', name);
}

/** Mocks `object[key]` with `value` until mm.restore() (the mm library's, as egg-mock re-exports it). */
function mock(object: object, key: PropertyKey, value?: unknown): void {
  mmLib(object, key, value);
}

/** The default export's type: egg-mock's `mm`. */
export interface EggMm {
  (object: object, key: PropertyKey, value?: unknown): void;
  app: typeof app;
  cluster: typeof cluster;
  env: typeof env;
  restore: typeof restore;
  mock: typeof mock;
  mm: typeof mock;
  data: typeof data;
  mockData: typeof data;
  datas: typeof datas;
  mockDatas: typeof datas;
  empty: typeof empty;
  mockEmpty: typeof empty;
  error: typeof error;
  mockError: typeof error;
  errorOnce: typeof errorOnce;
  spy: typeof spy;
  syncData: typeof syncData;
  syncEmpty: typeof syncEmpty;
  syncError: typeof syncError;
  classMethod: typeof classMethod;
  isMocked: typeof isMocked;
  http: typeof http;
  https: typeof https;
}

/**
 * `import mm from '@clutch/mock'`: egg-mock's `mm` — a function mocking a property, with the mm
 * library's helpers (`mm.data`, `mm.error`, `mm.restore`, …) and egg-mock's `mm.app`,
 * `mm.cluster` and `mm.env`.
 *
 * @example
 * const app = mm.app({ baseDir: 'demo' }); // test/fixtures/demo
 * before(() => app.ready());
 * afterEach(mm.restore);
 * it('mocks', async () => {
 *   app.mockService('user', 'find', { name: 'egg' });
 *   await app.httpRequest().get('/user/1').expect(200);
 * });
 */
const mm: EggMm = Object.assign(mock, {
  app,
  cluster,
  env,
  restore,
  mock,
  mm: mock,
  data,
  mockData: data,
  datas,
  mockDatas: datas,
  empty,
  mockEmpty: empty,
  error,
  mockError: error,
  errorOnce,
  spy,
  syncData,
  syncEmpty,
  syncError,
  classMethod,
  isMocked,
  http,
  https,
});

notProvided(mm, 'mm', {
  consoleLevel: 'CLUTCH_LOG_LEVEL=warn (or debug) in the environment of the test run',
  home: "mm(os, 'homedir', () => dir)",
  setGetAppCallback: "the bootstrap's app, or your own mm.app() in a before hook",
  restoreAgent: 'mm.restore() (the agent runs in the same process as the app)',
});

export default mm;
