/** Resolves once process `pid` has exited (or become a zombie); rejects past the deadline. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    if (Date.now() > deadline) throw new Error(`process ${pid} still runs ${timeoutMs}ms after it stopped its cluster`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
