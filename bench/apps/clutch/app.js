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
  }
}
