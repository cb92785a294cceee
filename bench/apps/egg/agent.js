module.exports = (agent) => {
  const m = agent.messenger;
  m.on('ping-msg', ({ pid }) => m.sendTo(pid, 'pong', null));
  let pending = null;
  m.on('b-done', () => {
    if (pending && --pending.left === 0) {
      const ms = Date.now() - pending.began;
      m.sendTo(pending.pid, 'b-result', { n: pending.n, ms, perSecond: Math.round((pending.n / ms) * 1000) });
    }
  });
  m.on('b-run', ({ n, workers, pid }) => {
    m.sendToApp('b-start', { n });
    pending = { left: workers, began: Date.now(), n, pid };
    for (let i = 0; i < n; i++) m.sendToApp('b', i);
  });
};
