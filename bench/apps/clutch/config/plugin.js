// BENCH_BUILTINS=off: the same app with Clutch's built-in plugins turned off, to measure what they
// cost per request in the same run.
const off = process.env.BENCH_BUILTINS === 'off';
export default off ? { static: false, session: false, security: false, multipart: false, view: false } : {};
