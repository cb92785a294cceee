import { resolve } from 'node:path';
import { createLogger, type Logger } from '@clutch/cluster';
import { Agent, Application, installEgg } from '@clutch/core';
import supertest from 'supertest';
import { Bridge } from './bridge.js';

export interface CreateAppOptions {
  /** The config env (default unittest). */
  env?: string;
  /** Loggers of the two sides (default: warnings and errors only). */
  logger?: { agent: Logger; app: Logger };
}

/** A project running in the test's own process: an agent and one worker, bridged. */
export interface MockApp {
  app: Application;
  agent: Agent;
  /** A supertest client bound to the app: `await mock.request().get('/').expect(200)`. */
  request(): ReturnType<typeof supertest>;
  /** Runs beforeClose in the worker, then in the agent. */
  close(): Promise<void>;
}

/**
 * Boots a project in this process — the agent first, then one worker, with every lifecycle hook,
 * plugin, service, schedule handler and the messenger between them — without forking anything.
 * The messenger behaves as in a cluster (asynchronous, in order, JSON-only, early messages held);
 * the worker's pid is `process.pid` and the agent's is AGENT_PID (synthetic); schedules are not timed.
 *
 * @example
 * const mock = await createApp('apps/showcase', { env: 'local' });
 * after(() => mock.close());
 * await mock.request().get('/price/100?to=USD').expect(200);
 */
export async function createApp(baseDir: string, options: CreateAppOptions = {}): Promise<MockApp> {
  const dir = resolve(baseDir);
  const env = options.env ?? 'unittest';
  const loggers = options.logger ?? { agent: createLogger('agent', 'warn'), app: createLogger('worker', 'warn') };
  const bridge = new Bridge(createLogger('master', 'warn'));
  const agent = new Agent({ baseDir: dir, env, title: 'mock', logger: loggers.agent, transport: bridge.transport('agent'), pids: bridge.pids() });
  // Egg compatibility, as the framework entry gives every process of a cluster.
  installEgg(agent);
  await agent.boot();
  bridge.ready('agent');
  const app = new Application({ baseDir: dir, env, title: 'mock', logger: loggers.app, transport: bridge.transport('app'), pids: bridge.pids() });
  installEgg(app);
  try {
    await app.boot();
  } catch (err) {
    await agent.close();
    throw err;
  }
  bridge.ready('app');
  try {
    await Promise.all([agent.lifecycle.run('serverDidReady'), app.lifecycle.run('serverDidReady')]);
  } catch (err) {
    await app.close();
    await agent.close();
    throw err;
  }
  const callback = app.callback();
  return {
    app,
    agent,
    request: () => supertest(callback),
    async close() {
      await app.close();
      await agent.close();
    },
  };
}
