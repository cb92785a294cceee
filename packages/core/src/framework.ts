import type { FrameworkStartOptions, ProcessInstance, WorkerInstance } from '@clutch/cluster';
import { Agent } from './agent.js';
import { Application } from './application.js';

/** Boots the agent; the master calls this in the agent process. */
export async function startAgent(options: FrameworkStartOptions): Promise<ProcessInstance> {
  const agent = new Agent(options);
  await agent.boot();
  return {
    serverDidReady: () => agent.serverDidReady(),
    close: () => agent.close(),
  };
}

/** Boots an app worker; the master calls this in each worker process, then serves its callback. */
export async function startWorker(options: FrameworkStartOptions): Promise<WorkerInstance> {
  const app = new Application(options);
  await app.boot();
  return {
    callback: app.callback(),
    listen: app.config.cluster.listen,
    keepAliveTimeout: app.config.cluster.keepAliveTimeout,
    serverDidReady: () => app.lifecycle.run('serverDidReady'),
    close: () => app.close(),
  };
}
