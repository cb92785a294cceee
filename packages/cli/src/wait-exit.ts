import { isRunning } from '@clutch/cluster';

/** Resolves once process `pid` has exited (a zombie nobody reaps counts as exited); rejects past the deadline. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (isRunning(pid)) {
    if (Date.now() > deadline) throw new Error(`process ${pid} still runs ${timeoutMs}ms after it stopped its cluster`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
