export default class {
  constructor(app) {
    this.app = app;
  }

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
    // The stream of /bench/stream: n messages of one size from the agent to this worker.
    let got = 0;
    let expected = 0;
    this.app.messenger.on('s-start', ({ n }) => {
      got = 0;
      expected = n;
    });
    this.app.messenger.on('s', () => {
      if (++got === expected) this.app.messenger.sendToAgent('s-done', null);
    });
  }
}
