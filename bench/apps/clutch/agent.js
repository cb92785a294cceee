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
    m.handle('broadcast', ({ n, workers }) => {
      return new Promise((resolve) => {
        m.sendToApp('b-start', { n });
        pending = { left: workers, began: Date.now(), resolve };
        for (let i = 0; i < n; i++) m.sendToApp('b', i);
      }).then((ms) => ({ n, ms, perSecond: Math.round((n / ms) * 1000) }));
    });
  }
}
