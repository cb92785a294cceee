module.exports = (app) => {
  let count = 0;
  let target = 0;
  app.messenger.on('b-start', ({ n }) => {
    count = 0;
    target = n;
  });
  app.messenger.on('b', () => {
    if (++count === target) app.messenger.sendToAgent('b-done', null);
  });
};
