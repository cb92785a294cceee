'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS entry point requires */
// require('@clutch/mock'), as require('egg-mock') is: the mm function, with the kit's named exports
// on it. The kit is ESM; Node (>= 20.19) requires it synchronously, as it has no top-level await.
const kit = require('../dist/index.js');

const mm = kit.default;
for (const [name, value] of Object.entries(kit)) if (name !== 'default' && !(name in mm)) mm[name] = value;
module.exports = mm;
