import type { ChildHandle, ChildProcessHandle } from './child-handle.js';
import { ClusterErrorCode, ClutchError, deserializeError, type SerializedError } from './errors.js';
import type { ListenAddress } from './protocol.js';

/** A child's boot, as the master waits for it. */
export interface Boot {
  /** Settles when the child is ready (agent) or listening (worker), or failed before that. */
  promise: Promise<void>;
  resolve(): void;
  reject(err: Error): void;
  done: boolean;
  /** What the child reported before it exited (`boot-error`). */
  error?: SerializedError;
}

/** A boot as everyone but its handle sees it: awaited and read, never settled. */
export type BootView = Readonly<Pick<Boot, 'promise' | 'done' | 'error'>>;

export function deferBoot(): Boot {
  const boot = { done: false } as Boot;
  boot.promise = new Promise<void>((resolve, reject) => {
    boot.resolve = () => {
      boot.done = true;
      resolve();
    };
    boot.reject = reject;
  });
  boot.promise.catch(() => {});
  return boot;
}

/** The URL the ready line shows for where the master listens. */
export function urlOf(address: ListenAddress, secure = false): { url: string; port: number | null } {
  if (address.family === 'unix') return { url: `unix:${address.address}`, port: null };
  let host = address.address;
  if (!host || host === '::' || host === '0.0.0.0') host = '127.0.0.1';
  else if (host.includes(':')) host = `[${host}]`;
  return { url: `${secure ? 'https' : 'http'}://${host}:${address.port}`, port: address.port };
}

/** Why a child exited before it was ready: its own boot error if it sent one, else how it exited. */
export function exitError(handle: Pick<ChildProcessHandle, 'boot' | 'role' | 'pid'>, code: number | null, signal: string | null): ClutchError {
  const { boot, role: who } = handle;
  if (boot.error?.code === ClusterErrorCode.PORT_IN_USE) {
    return new ClutchError(ClusterErrorCode.PORT_IN_USE, boot.error.message, { cause: deserializeError(boot.error) });
  }
  if (boot.error) {
    const cause = deserializeError(boot.error);
    const errCode = handle.role === 'worker' ? ClusterErrorCode.WORKER_BOOT_FAILED : ClusterErrorCode.AGENT_BOOT_FAILED;
    return new ClutchError(errCode, `The ${who} (pid ${handle.pid}) failed to boot: ${cause.message}${boot.error.code ? ` [${boot.error.code}]` : ''}`, {
      cause,
    });
  }
  const when = boot.done ? 'during the start of the cluster' : 'before it was ready';
  return new ClutchError(ClusterErrorCode.PROCESS_EXITED, `The ${who} (pid ${handle.pid}) exited ${when} (code ${code}, signal ${signal})`);
}

/**
 * Whether a death was caused from outside — SIGKILL (an operator, the OOM killer), or a drain and
 * clean exit after a SIGTERM someone else sent (the process said it was leaving) — rather than by its
 * own code: a crash, or a `process.exit(0)` nobody asked for. Such a death of a process that had
 * booted is not a crash loop: it is replaced at once, whatever its uptime.
 */
export function killedFromOutside(handle: ChildHandle, code: number | null, signal: string | null): boolean {
  return signal === 'SIGKILL' || (signal === null && code === 0 && handle.leftOnItsOwn);
}

/** Whether a death counts toward a crash loop: not one killed from outside after it served (an operator, the OOM killer). */
export function countsAsCrash(child: ChildHandle & { boot: { done: boolean } }, info: { code: number | null; signal: string | null }): boolean {
  return !(child.boot.done && killedFromOutside(child, info.code, info.signal));
}
