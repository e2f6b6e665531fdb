/**
 * Preloaded (`node --require`, through NODE_OPTIONS) into the processes tests start: a process
 * whose parent is gone (a jest worker killed by a signal or a crash, where no teardown runs)
 * kills itself, so nothing a test started outlives the run. Production code never loads it.
 *
 * SIGKILL, not SIGTERM: with the reader of its stdout gone, a graceful stop would log a line,
 * get EPIPE, and pino's exit-time flush retries that write forever (sonic-boom flushSync).
 */
const POLL_MS = 500;

const parent = process.ppid;
const watch = setInterval(() => {
  // An orphan is re-parented (to init or a subreaper), so its parent pid changes.
  if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL');
}, POLL_MS);
watch.unref();

export {};
