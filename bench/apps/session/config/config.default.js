// BENCH_SESSION_ENCRYPT=0: the session signed only (readable), the baseline of the encrypted one.
export default {
  keys: 'bench-session-key-1,bench-session-key-0',
  session: { encrypt: process.env.BENCH_SESSION_ENCRYPT !== '0' },
};
