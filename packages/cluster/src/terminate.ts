import type { ChildHandle, ExitInfo } from './child-handle.js';
import type { Logger } from './logger.js';
import type { StopMessage } from './protocol.js';

/** How long after a child's own stop timeout the master waits before SIGKILL. */
export const KILL_GRACE_MS = 1_000;

const stopOrders = new WeakMap<ChildHandle, StopMessage>();

/** Sends a child its stop order again (it reported ready, so it may have missed the first). */
export function resendStop(handle: ChildHandle): void {
  const order = stopOrders.get(handle);
  if (order) handle.send(order);
}

/**
 * Orders a child to stop within `timeout` ms (over IPC, else with SIGTERM) and waits for its exit; a
 * second after that it gets SIGKILL. The exit event is what counts — `ChildProcess.killed` turns true as soon as SIGTERM
 * is sent, which is why a check on it never escalates.
 */
export async function terminate(
  handle: ChildHandle,
  timeout: number,
  logger: Logger,
  reason: 'stop' | 'reload' = 'stop',
): Promise<ExitInfo & { killed: boolean }> {
  let killed = false;
  if (handle.state !== 'dead') handle.state = 'stopping';
  stopOrders.set(handle, { clutch: 'stop', reason, timeout });
  if (!handle.send({ clutch: 'stop', reason, timeout })) handle.kill('SIGTERM');
  const timer = setTimeout(() => {
    killed = true;
    logger.warn(
      '%s %d did not exit within %dms of the stop order, sending SIGKILL',
      handle.role === 'app' ? 'worker' : 'agent',
      handle.pid,
      timeout + KILL_GRACE_MS,
    );
    handle.kill('SIGKILL');
  }, timeout + KILL_GRACE_MS);
  try {
    const info = await handle.exited;
    return { ...info, killed };
  } finally {
    clearTimeout(timer);
  }
}
