/**
 * The entry the cluster's processes load (`@clutch/core/framework`). Each role imports only its
 * own half: the agent never loads Koa, the router or the body parser unless project code does.
 */
import type { FrameworkStartOptions, ProcessInstance, WorkerInstance } from '@clutch/cluster';

/** Boots the agent; the master calls this in the agent process. */
export async function startAgent(options: FrameworkStartOptions): Promise<ProcessInstance> {
  const { Agent } = await import('./agent.js');
  const agent = new Agent(options);
  await agent.boot();
  return {
    serverDidReady: () => agent.serverDidReady(),
    close: () => agent.close(),
  };
}

/** Boots an app worker; the master calls this in each worker process, then serves its callback. */
export async function startWorker(options: FrameworkStartOptions): Promise<WorkerInstance> {
  const { Application } = await import('./application.js');
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
