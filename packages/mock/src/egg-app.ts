import { createLogger } from '@clutch/cluster';
import type { Agent, Application, Context } from '@clutch/core';
import mm from 'mm';
import supertest from 'supertest';
import { mockContext, mockCookies, mockCsrf, mockHeaders, mockService, mockServiceError, mockSession, type MockContextData } from './app-mocks.js';
import { createApp, type MockApp } from './create-app.js';
import { ClutchError, MockErrorCode } from './errors.js';
import { forwardingProxy } from './forwarding-proxy.js';
import { mockHttpclient, type MockHttpResult } from './mock-httpclient.js';
import { notProvided } from './not-provided.js';
import { RecordLogger } from './record-logger.js';

const REAL = Symbol('clutch.mockApp.real');

type ServiceRef = string | (new (...a: never[]) => object);

/** The agent beside a mock app (`app.agent`): the Agent, with egg-mock's `ready()` and `close()`. */
export type MockAgent = Agent & { ready(): Promise<void>; close(): Promise<void> };

/** What egg-mock adds to the app it hands out (see docs/testing.md, "coming from egg-mock"). */
export interface EggMockMethods {
  /** Resolves once the agent and the worker have booted (serverDidReady has run); rejects with the boot's error. */
  ready(): Promise<void>;
  /** Runs beforeClose in the worker, then in the agent. */
  close(): Promise<void>;
  /** A supertest client bound to the app. */
  httpRequest(): ReturnType<typeof supertest>;
  mockContext(data?: MockContextData): Context;
  mockContextScope<T>(fn: (ctx: Context) => T | Promise<T>, data?: MockContextData): Promise<T>;
  mockService(service: ServiceRef, method: string, fnOrValue: unknown): this;
  mockServiceError(service: ServiceRef, method: string, err?: Error | string): this;
  mockSession(data: Record<string, unknown>): this;
  mockCookies(data: Record<string, string>): this;
  mockHeaders(data: Record<string, string>): this;
  mockCsrf(): this;
  /** `(url, result)` or `(url, method, result)`: see MockHttpResult. */
  mockHttpclient(url: string | RegExp, ...args: [MockHttpResult] | [string | string[], MockHttpResult]): this;
  /** egg-mock's older name of mockHttpclient. */
  mockUrllib(url: string | RegExp, ...args: [MockHttpResult] | [string | string[], MockHttpResult]): this;
  /** Starts a new log record: expectLog sees what is logged from here (until mm.restore()). */
  mockLog(logger?: unknown): this;
  expectLog(pattern: string | RegExp, logger?: unknown): this;
  notExpectLog(pattern: string | RegExp, logger?: unknown): this;
  /** egg-mock's: the same as mm.restore(). */
  mockRestore(): void;
  readonly agent: MockAgent;
}

/** The app `mm.app()` and `@clutch/mock/bootstrap` hand out: the Application once ready, with egg-mock's helpers. */
export type MockApplication = Omit<Application, 'ready' | 'close'> & EggMockMethods;

/**
 * The stand-in `mm.app()` returns at once (egg-mock's app is usable before it has booted): it boots
 * the project with createApp, then forwards everything it does not define itself to the Application.
 */
class EggMockHost {
  readonly #booting: Promise<MockApp>;
  readonly #logger = new RecordLogger(createLogger('worker', 'warn'));
  #mock: MockApp | null = null;
  #agent: MockAgent | null = null;
  #closed: Promise<void> | null = null;
  readonly #onClose: () => void;

  constructor(dir: string, env: string, onClose: () => void) {
    this.#onClose = onClose;
    this.#booting = createApp(dir, { env, logger: { agent: createLogger('agent', 'warn'), app: this.#logger } }).then((mock) => (this.#mock = mock));
    // Failing before anyone awaits ready() must not be an unhandled rejection: ready() reports it.
    this.#booting.catch(() => {});
  }

  /** The Application, once booted (what the stand-in forwards to). */
  [REAL](): Application | null {
    return this.#mock?.app ?? null;
  }

  #app(): Application {
    if (this.#mock) return this.#mock.app;
    throw new ClutchError(MockErrorCode.NOT_READY, 'the app is not ready yet: await app.ready() first (in a before hook)');
  }

  ready(): Promise<void> {
    return this.#booting.then(() => undefined);
  }

  close(): Promise<void> {
    this.#closed ??= this.#booting.then(
      (mock) => mock.close(),
      () => {},
    );
    this.#onClose();
    return this.#closed;
  }

  httpRequest(): ReturnType<typeof supertest> {
    const app = this.#app();
    return supertest(app.callback());
  }

  mockContext(data?: MockContextData): Context {
    return mockContext(this.#app(), data);
  }

  /** egg-mock's: runs `fn` with a mock context (Clutch keeps no current-context store, so `fn` gets it as its argument). */
  async mockContextScope<T>(fn: (ctx: Context) => T | Promise<T>, data?: MockContextData): Promise<T> {
    return fn(mockContext(this.#app(), data));
  }

  mockService(service: ServiceRef, method: string, fnOrValue: unknown): this {
    mockService(this.#app(), service, method, fnOrValue);
    return this;
  }

  mockServiceError(service: ServiceRef, method: string, err?: Error | string): this {
    mockServiceError(this.#app(), service, method, err);
    return this;
  }

  mockSession(data: Record<string, unknown>): this {
    mockSession(this.#app(), data);
    return this;
  }

  mockCookies(data: Record<string, string>): this {
    mockCookies(this.#app(), data);
    return this;
  }

  mockHeaders(data: Record<string, string>): this {
    mockHeaders(this.#app(), data);
    return this;
  }

  mockCsrf(): this {
    mockCsrf(this.#app());
    return this;
  }

  mockHttpclient(url: string | RegExp, ...args: [MockHttpResult] | [string | string[], MockHttpResult]): this {
    const app = this.#app();
    mockHttpclient([app, this.#mock!.agent], url, args);
    return this;
  }

  mockUrllib(url: string | RegExp, ...args: [MockHttpResult] | [string | string[], MockHttpResult]): this {
    return this.mockHttpclient(url, ...args);
  }

  // egg-mock names a logger (logger, coreLogger, errorLogger…): Clutch has one per process, so every name is it.
  mockLog(_logger?: unknown): this {
    mm(this.#logger, 'mark', this.#logger.reset());
    return this;
  }

  expectLog(pattern: string | RegExp, _logger?: unknown): this {
    this.#logger.expect(pattern, true);
    return this;
  }

  notExpectLog(pattern: string | RegExp, _logger?: unknown): this {
    this.#logger.expect(pattern, false);
    return this;
  }

  mockRestore(): void {
    mm.restore();
  }

  get agent(): MockAgent {
    this.#agent ??= forwardingProxy<MockAgent>(
      { ready: () => this.ready(), close: async () => this.#mock?.agent.close() },
      () => this.#mock?.agent ?? null,
      'app.agent',
    );
    return this.#agent;
  }
}

notProvided(EggMockHost.prototype, 'app', {
  mockAgentRestore: 'mm.restore() (the agent runs in the same process as the app)',
  mockRequest: 'app.mockContext({ url, method, headers })',
  mockDevice: 'app.mockHeaders({ "user-agent": … })',
  backgroundTasksFinished: 'await app.close() (it waits for ctx.runInBackground jobs), or await the job in the test',
  mockModule: 'mm(module, key, value)',
});

/** A new stand-in app for `dir`, booting in `env`. */
export function eggMockApp(dir: string, env: string, onClose: () => void): MockApplication {
  const host = new EggMockHost(dir, env, onClose);
  return forwardingProxy<MockApplication>(host, () => host[REAL]() as MockApplication | null, 'app');
}
