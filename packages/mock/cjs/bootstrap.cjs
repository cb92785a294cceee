'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS entry point requires */
// require('@clutch/mock/bootstrap'), as require('egg-mock/bootstrap'): { app, mock, mm, assert }.
module.exports = require('../dist/bootstrap.js');
