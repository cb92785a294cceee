module.exports = (app) => {
  app.router.get('/', app.controller.home.index);
  app.router.get('/bench/pingpong', app.controller.home.pingpong);
  app.router.get('/bench/broadcast', app.controller.home.broadcast);
};
