import type { ChildProcessHandle, ExitInfo } from './child-handle.js';
import type { Logger } from './logger.js';

/** How long after a child's own stop timeout the master waits before SIGKILL. */
export const KILL_GRACE_MS = 1_000;

/**
 * Orders a child to stop within `timeout` ms (over IPC, else with SIGTERM) and waits for its exit; a
 * second after that it gets SIGKILL. The exit event is what counts — `ChildProcess.killed` turns true as soon as SIGTERM
 * is sent, which is why a check on it never escalates.
 */
export async function terminate(
  handle: ChildProcessHandle,
  timeout: number,
  logger: Logger,
  reason: 'stop' | 'reload' = 'stop',
): Promise<ExitInfo & { killed: boolean }> {
  let killed = false;
  handle.orderStop({ clutch: 'stop', reason, timeout });
  const timer = setTimeout(() => {
    killed = true;
    logger.warn('%s %d did not exit within %dms of the stop order, sending SIGKILL', handle.role, handle.pid, timeout + KILL_GRACE_MS);
    handle.kill('SIGKILL');
  }, timeout + KILL_GRACE_MS);
  try {
    const info = await handle.exited;
    return { ...info, killed };
  } finally {
    clearTimeout(timer);
  }
}
