/** An app worker's entry, forked by the master with node:cluster. */
// First: hold the master's messages (a stop order) that arrive while the rest loads.
import './early.js';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Framework, WorkerInstance } from '../framework.js';
import { createLogger, LOG_FORMAT_ENV, reopenLogs, setLogFormat, setUpProcessLogs } from '../logger.js';
import { HttpStats } from '../http-stats.js';
import type { ReleaseMessage } from '../protocol.js';
import { startHeartbeat, type Heartbeat } from './heartbeat.js';
import { OverloadGuard } from './overload.js';
import { requestBudget } from './stop-budget.js';
import { ExitCode } from '../exit-codes.js';
import { withTimeout } from '../with-timeout.js';
import { DrainableServer } from './http-server.js';
import { ChildStop, type StopRequest } from './stop.js';
import { failBoot, createTransport, ignoreGroupSignals, loadFramework, readChildOptions } from './runtime.js';

const logger = createLogger('worker');
setUpProcessLogs('worker');
const options = readChildOptions();
process.title = `clutch-worker ${options.title}`;
ignoreGroupSignals(logger);

let instance: WorkerInstance | undefined;
/** Per-request counts for /metrics; CLUTCH_HTTP_METRICS=0 turns them off (the bench measures their cost so). */
const stats = process.env.CLUTCH_HTTP_METRICS === '0' ? undefined : new HttpStats();
let server: DrainableServer | undefined;

/**
 * What a stop does in a worker, however it was asked for (stop.ts). The master took this worker
 * out of the rotation before it ordered the stop; the barrier's echo comes after every connection
 * it handed this worker before that, so none is left unserved.
 */
async function stopWorker({ reason, timeout }: StopRequest): Promise<number> {
  const deadline = Date.now() + timeout;
  // A SIGTERM from someone else: the master learns it here, and hands this worker nothing more.
  transport.send({ clutch: 'leaving' });
  // The app closes what only it can (WebSockets, event streams), so the drain below ends promptly.
  try {
    instance?.draining?.();
  } catch (err) {
    logger.error('a draining listener failed: %s', err);
  }
  // Requests in flight finish before beforeClose runs, so they still see a working app. They get
  // the stop timeout but a reserve (stop-budget.ts); then what is still open is cut, so beforeClose
  // always gets its turn.
  await server?.drain(reason, requestBudget(timeout), () => transport.barrier(1_000));
  if (!instance) return ExitCode.OK;
  const left = Math.max(0, deadline - Date.now());
  await withTimeout(instance.close(left), left, () => new Error(`beforeClose did not finish within the stop timeout (${timeout}ms)`)).catch((err: unknown) =>
    logger.error('%s; exiting', err instanceof Error ? err.message : err),
  );
  return ExitCode.OK;
}

const stop = new ChildStop(logger, stopWorker);
// A worker of the start is forked while the agent boots (options.gated): it boots once the master
// releases it, with what the project's config decided meanwhile.
let releaseNow: ((release: ReleaseMessage) => void) | undefined;
const release = new Promise<ReleaseMessage>((resolve) => (releaseNow = resolve));
const transport = createTransport(options.masterPid, {
  onRelease: (message) => releaseNow?.(message),
  onReopenLogs: reopenLogs,
  onClusterReady: () => {
    instance?.serverDidReady().catch((err: unknown) => logger.error('serverDidReady failed: %s', err));
  },
  onCollectMetrics: async () => ({ metrics: (await instance?.metrics?.()) ?? null, ...(stats ? { http: stats.counts } : {}) }),
  onBind: (config) => (server ? server.bind(config) : Promise.reject(new Error('not booted'))),
  onListenOn: (socket) => (server ? server.listenOn(socket) : Promise.reject(new Error('not booted'))),
  onConnection: (handle) => {
    if (server) server.accept(handle);
    else handle.close();
  },
  onStop: (reason, timeout) => stop.request({ from: 'master', reason, timeout: timeout ?? options.stopTimeout }),
});
const beat = (intervalMs: number, maxMemory: number | undefined) => startHeartbeat((m) => transport.send(m), intervalMs, logger, stats, maxMemory);
const early = options.gated ? null : beat(options.heartbeatMs, options.maxMemory);

/**
 * A gated worker: the framework's worker modules load while the agent boots (no boot hook runs);
 * then it asks for its release (a message sent to it earlier could arrive before any listener),
 * waits for it, and takes the settings it carries.
 */
async function released(framework: Framework): Promise<Heartbeat> {
  await framework.preloadWorker?.();
  transport.send({ clutch: 'preloaded' });
  const late = await release;
  if (late.logFormat && process.env[LOG_FORMAT_ENV] === undefined) {
    process.env[LOG_FORMAT_ENV] = late.logFormat;
    setLogFormat(late.logFormat);
  }
  return beat(late.heartbeatMs, late.maxMemory);
}
// A SIGTERM from anyone takes the same path as the master's order. (A worker whose master dies
// exits with it: node:cluster ends a worker whose channel closes.)
process.on('SIGTERM', () => stop.request({ from: 'SIGTERM', reason: 'stop', timeout: options.stopTimeout }));

try {
  const framework = await loadFramework(options.framework);
  const heartbeat = early ?? (await released(framework));
  instance = await framework.startWorker({
    baseDir: options.baseDir,
    env: options.env,
    title: options.title,
    logger,
    transport,
    pids: { agent: options.agentPid, workers: [] },
  });
  // Ready first: messages that waited in the master are flushed before the first request arrives.
  transport.send({ clutch: 'ready' });
  const { tls, http2 } = instance.listen;
  let guard: OverloadGuard | undefined;
  if (instance.overload) {
    guard = new OverloadGuard(instance.overload, logger, () => heartbeat.beat());
    const shedding = guard;
    heartbeat.shedFrom(() => ({ active: shedding.shedding, total: shedding.total }));
    guard.start();
  }
  server = new DrainableServer(instance.callback, {
    ...(guard ? { guard } : {}),
    ...(stats ? { stats } : {}),
    ...(instance.keepAliveTimeout !== undefined ? { keepAliveTimeout: instance.keepAliveTimeout } : {}),
    ...(instance.limits ? { limits: instance.limits } : {}),
    ...(tls
      ? { tls: { key: readFileSync(resolve(options.baseDir, tls.key)), cert: readFileSync(resolve(options.baseDir, tls.cert)) }, http2: http2 === true }
      : {}),
  });
  instance.serverCreated?.(server.server);
  // The master binds the address (its --port wins over the project's config) and hands this worker connections.
  await transport.listen(instance.listen);
} catch (err) {
  failBoot(logger, err, options.bootErrorReported);
}
