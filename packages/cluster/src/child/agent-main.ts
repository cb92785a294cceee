/** The agent process's entry, forked by the master with child_process.fork. */
// First: hold the master's messages (a stop order) that arrive while the rest loads.
import './early.js';
import { ExitCode } from '../exit-codes.js';
import type { ProcessInstance } from '../framework.js';
import { createLogger, reopenLogs, setUpProcessLogs } from '../logger.js';
import { startHeartbeat } from './heartbeat.js';
import { failBoot, createTransport, ignoreGroupSignals, loadFramework, readChildOptions } from './runtime.js';

const logger = createLogger('agent');
setUpProcessLogs('agent');
const options = readChildOptions();
process.title = `clutch-agent ${options.title}`;
ignoreGroupSignals(logger);

let instance: ProcessInstance | undefined;
let closing = false;

/** An agent whose master died must not linger: it gets a short grace for beforeClose. */
const ORPHAN_GRACE_MS = 3_000;

/** Runs beforeClose (bounded by `limit`) and exits. */
function shutdown(code: number, why: string, limit = options.stopTimeout): void {
  if (closing) return;
  closing = true;
  logger.info('stopping: %s', why);
  const timer = setTimeout(() => {
    logger.error('beforeClose did not finish within %dms; exiting', limit);
    process.exit(code);
  }, limit);
  timer.unref();
  Promise.resolve(instance?.close())
    .catch((err: unknown) => logger.error('close failed: %s', err))
    .finally(() => process.exit(code));
}

const transport = createTransport(options.masterPid, {
  onReopenLogs: reopenLogs,
  onClusterReady: () => {
    instance?.serverDidReady().catch((err: unknown) => logger.error('serverDidReady failed: %s', err));
  },
  onStop: (_reason, timeout) => shutdown(ExitCode.OK, 'ordered by the master', timeout),
});

startHeartbeat((m) => transport.send(m), options.heartbeatMs, logger);

// The agent stops after the workers. The agent does not use graceful-process, whose SIGTERM
// handler exits at once: a SIGTERM sent to the whole process group (systemd, `timeout`) would end
// the agent while workers still drain requests that may need it. While the master lives, the agent
// waits for its stop order, and stops on its own only if none comes within the stop timeout.
process.on('SIGTERM', () => {
  if (!process.connected) {
    shutdown(ExitCode.OK, 'SIGTERM');
    return;
  }
  logger.info('SIGTERM: waiting up to %dms for the master to order the stop', options.stopTimeout);
  setTimeout(() => shutdown(ExitCode.OK, 'SIGTERM, and no order from the master came'), options.stopTimeout).unref();
});
const orphaned = () => shutdown(ExitCode.ORPHANED, 'the master is gone (IPC channel closed)', Math.min(options.stopTimeout, ORPHAN_GRACE_MS));
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
