import type { Application } from '@clutch/core';

export default (app: Application) => {
  const { home, price } = app.controller;
  app.router.get('/', home.index);
  app.router.get('/price/:amount', price.convert);
  app.router.get('/rates', price.rates);
  app.router.get('/rates/stats', price.stats);
};
