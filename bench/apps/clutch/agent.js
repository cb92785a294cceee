export default class {
  constructor(agent) {
    this.agent = agent;
  }

  didLoad() {
    const m = this.agent.messenger;
    m.handle('ping', () => 'pong');
    m.on('ping-msg', ({ pid }) => m.sendTo(pid, 'pong', null));
    let pending = null;
    m.on('b-done', () => {
      if (pending && --pending.left === 0) pending.resolve(Date.now() - pending.began);
    });
    // n messages of `size` bytes to one worker, as fast as its byte budget lets them go: a send
    // refused for the budget (the master has not given the bytes back yet) waits a turn and retries.
    let streaming = null;
    m.on('s-done', () => streaming?.resolve(Date.now() - streaming.began));
    m.handle('stream', async ({ n, size, pid }) => {
      const data = 'x'.repeat(size);
      const done = new Promise((resolve) => (streaming = { began: Date.now(), resolve }));
      m.sendTo(pid, 's-start', { n });
      for (let i = 0; i < n;) {
        try {
          m.sendTo(pid, 's', data);
          i++;
        } catch (err) {
          if (err.code !== 'CLUTCH_ERR_MESSENGER_QUEUE_FULL') throw err;
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
      const ms = await done;
      return { n, size, ms, perSecond: Math.round((n / ms) * 1000), mbPerSecond: Math.round((n * size) / 1024 / 1024 / (ms / 1000)) };
    });
    m.handle('broadcast', ({ n, workers }) => {
      return new Promise((resolve) => {
        m.sendToApp('b-start', { n });
        pending = { left: workers, began: Date.now(), resolve };
        for (let i = 0; i < n; i++) m.sendToApp('b', i);
      }).then((ms) => ({ n, ms, perSecond: Math.round((n / ms) * 1000) }));
    });
  }
}
