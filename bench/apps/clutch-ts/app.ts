interface Messenger {
  on(action: string, fn: (data: { n: number }) => void): void;
  sendToAgent(action: string, data: unknown): void;
}

export default class {
  constructor(private readonly app: { messenger: Messenger }) {}

  didLoad() {
    let count = 0;
    let target = 0;
    this.app.messenger.on('b-start', ({ n }) => {
      count = 0;
      target = n;
    });
    this.app.messenger.on('b', () => {
      if (++count === target) this.app.messenger.sendToAgent('b-done', null);
    });
  }
}
