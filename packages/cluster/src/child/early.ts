/**
 * Imported first by the child entries: holds the master's messages that arrive while the rest of
 * the process is still loading (a stop order, say), until the runtime takes them over.
 */
const early: unknown[] = [];
const hold = (message: unknown) => early.push(message);
process.on('message', hold);

/** Stops holding and hands over what arrived so far, in order. */
export function takeEarlyMessages(): unknown[] {
  process.off('message', hold);
  return early.splice(0);
}
