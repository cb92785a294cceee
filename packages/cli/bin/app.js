#!/usr/bin/env node
// On Node ≥ 22.1, V8's compiled code of every module is kept on disk (module.enableCompileCache,
// in the OS's temporary directory, or NODE_COMPILE_CACHE; NODE_DISABLE_COMPILE_CACHE=1 turns it
// off) and the agent and the workers inherit it through the environment: each of them loads the
// framework, Koa and the project's modules again, and a start then compiles none of them anew.
// Node 20 has no such cache; nothing changes there.
import module from 'node:module';

const cache = module.enableCompileCache?.();
const on = cache && cache.status !== module.constants.compileCacheStatus.FAILED && cache.status !== module.constants.compileCacheStatus.DISABLED;
if (on && cache.directory && process.env.NODE_COMPILE_CACHE === undefined) process.env.NODE_COMPILE_CACHE = cache.directory;
const { main } = await import('../dist/bin.js');
main(process.argv.slice(2));
