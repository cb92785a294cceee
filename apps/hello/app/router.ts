import type { Application } from '@clutch/core';

export default (app: Application) => {
  app.router.get('/', app.controller.home.index);
  app.router.get('/stats', app.controller.home.stats);
};
