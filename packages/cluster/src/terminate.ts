import type { ChildHandle, ExitInfo } from './child-handle.js';
import type { Logger } from './logger.js';

/**
 * Orders a child to stop (over IPC, else with SIGTERM) and waits for its exit; past `timeout` ms it
 * gets SIGKILL. The exit event is what counts — `ChildProcess.killed` turns true as soon as SIGTERM
 * is sent, which is why a check on it never escalates.
 */
export async function terminate(handle: ChildHandle, timeout: number, logger: Logger, reason: 'stop' | 'reload' = 'stop'): Promise<ExitInfo & { killed: boolean }> {
  let killed = false;
  if (handle.state !== 'dead') handle.state = 'stopping';
  if (!handle.send({ clutch: 'stop', reason })) handle.kill('SIGTERM');
  const timer = setTimeout(() => {
    killed = true;
    logger.warn('%s %d did not exit within %dms of the stop order, sending SIGKILL', handle.role === 'app' ? 'worker' : 'agent', handle.pid, timeout);
    handle.kill('SIGKILL');
  }, timeout);
  try {
    const info = await handle.exited;
    return { ...info, killed };
  } finally {
    clearTimeout(timer);
  }
}
