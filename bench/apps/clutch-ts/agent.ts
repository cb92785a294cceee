enum Reply {
  Pong = 'pong',
}

export default class {
  constructor(private readonly agent: { messenger: any }) {}

  didLoad() {
    const m = this.agent.messenger;
    m.handle('ping', () => Reply.Pong);
    m.on('ping-msg', ({ pid }: { pid: number }) => m.sendTo(pid, 'pong', null));
    let pending: { left: number; began: number; resolve(ms: number): void } | null = null;
    m.on('b-done', () => {
      if (pending && --pending.left === 0) pending.resolve(Date.now() - pending.began);
    });
    m.handle('broadcast', ({ n, workers }: { n: number; workers: number }) => {
      return new Promise<number>((resolve) => {
        m.sendToApp('b-start', { n });
        pending = { left: workers, began: Date.now(), resolve };
        for (let i = 0; i < n; i++) m.sendToApp('b', i);
      }).then((ms: number) => ({ n, ms, perSecond: Math.round((n / ms) * 1000) }));
    });
  }
}
