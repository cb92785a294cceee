// BENCH_SHED=on: load shedding on, with limits the bench never reaches (a 1 s loop delay, a 4 GB
// heap), so the figure is what watching costs a worker that is not overloaded.
export default process.env.BENCH_SHED === 'on' ? { cluster: { overload: { maxEventLoopDelay: '1s', maxHeapUsedBytes: '4gb' } } } : {};
