/** The agent process's entry, forked by the master with child_process.fork. */
// First: hold the master's messages (a stop order) that arrive while the rest loads.
import './early.js';
import { ExitCode } from '../exit-codes.js';
import type { ProcessInstance } from '../framework.js';
import { createLogger, reopenLogs, setUpProcessLogs } from '../logger.js';
import { withTimeout } from '../with-timeout.js';
import { startHeartbeat } from './heartbeat.js';
import { ChildStop, type StopRequest } from './stop.js';
import { failBoot, createTransport, ignoreGroupSignals, loadFramework, readChildOptions } from './runtime.js';

const logger = createLogger('agent');
setUpProcessLogs('agent');
const options = readChildOptions();
process.title = `clutch-agent ${options.title}`;
ignoreGroupSignals(logger);

let instance: ProcessInstance | undefined;

/** An agent whose master died must not linger: it gets a short grace for beforeClose. */
const ORPHAN_GRACE_MS = 3_000;

/** What a stop does in the agent, however it was asked for (stop.ts): beforeClose, bounded by the timeout. */
async function stopAgent({ from, timeout }: StopRequest): Promise<number> {
  const code = from === 'orphaned' ? ExitCode.ORPHANED : ExitCode.OK;
  const limit = from === 'orphaned' ? Math.min(timeout, ORPHAN_GRACE_MS) : timeout;
  await withTimeout(Promise.resolve(instance?.close()), limit, () => new Error(`beforeClose did not finish within ${limit}ms`)).catch((err: unknown) =>
    logger.error('%s; exiting', err instanceof Error ? err.message : err),
  );
  return code;
}

const stop = new ChildStop(logger, stopAgent);
const transport = createTransport(options.masterPid, {
  onReopenLogs: reopenLogs,
  onClusterReady: () => {
    instance?.serverDidReady().catch((err: unknown) => logger.error('serverDidReady failed: %s', err));
  },
  onStop: (reason, timeout) => stop.request({ from: 'master', reason, timeout: timeout ?? options.stopTimeout }),
});

startHeartbeat((m) => transport.send(m), options.heartbeatMs, logger);

// The agent stops after the workers: a SIGTERM sent to the whole process group (systemd, `timeout`)
// must not end it while workers still drain requests that may need it. While the master lives, the
// agent waits for its stop order, and stops on its own only if none comes within the stop timeout.
process.on('SIGTERM', () => {
  if (!process.connected) {
    stop.request({ from: 'SIGTERM', reason: 'stop', timeout: options.stopTimeout });
    return;
  }
  logger.info('SIGTERM: waiting up to %dms for the master to order the stop', options.stopTimeout);
  setTimeout(() => stop.request({ from: 'SIGTERM', reason: 'stop', timeout: options.stopTimeout }), options.stopTimeout).unref();
});
const orphaned = () => stop.request({ from: 'orphaned', reason: 'stop', timeout: options.stopTimeout });
process.once('disconnect', orphaned);
// The master may have died while this module was still loading, before the listener existed.
if (!process.connected) orphaned();

try {
  const framework = await loadFramework(options.framework);
  instance = await framework.startAgent({
    baseDir: options.baseDir,
    env: options.env,
    title: options.title,
    logger,
    transport,
    pids: { agent: process.pid, workers: [] },
  });
  transport.send({ clutch: 'ready', ...(instance.settings ? { settings: instance.settings } : {}) });
} catch (err) {
  failBoot(logger, err, options.bootErrorReported);
}
