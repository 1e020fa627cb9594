// Preloaded into the server process under test (`node --import <this file> …`) when the
// benchmark sets OMNILIVE_BENCH_PROBE=1: once a second it sends the parent, over the IPC
// channel the benchmark opened, what only the process itself can see — heap, event-loop
// delay, active handles. Plain JavaScript, no imports from the server: it must not change
// what it measures. The variable is removed at once so engine children never run it.
import { monitorEventLoopDelay } from 'node:perf_hooks';

if (process.env.OMNILIVE_BENCH_PROBE === '1' && typeof process.send === 'function') {
  delete process.env.OMNILIVE_BENCH_PROBE;
  const RESOLUTION_MS = 10;
  const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  delay.enable();
  // The histogram counts whole sampling intervals: the stall is what exceeds the interval.
  const stallMs = (ns) => Math.max(0, Math.round((ns / 1e6 - RESOLUTION_MS) * 10) / 10);
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    const handles = {};
    for (const kind of process.getActiveResourcesInfo()) handles[kind] = (handles[kind] ?? 0) + 1;
    const sample = {
      probe: 1,
      rss: m.rss,
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      loopP50Ms: stallMs(delay.percentile(50)),
      loopP99Ms: stallMs(delay.percentile(99)),
      loopMaxMs: stallMs(delay.max),
      handles,
    };
    delay.reset();
    if (process.connected) process.send(sample);
  }, 1000);
  // Never keeps the server alive, never outlives the channel.
  timer.unref();
  process.channel?.unref();
  // The benchmark went away (crashed, killed): shut the server down as it would on Ctrl-C
  // rather than leave it running unattended.
  process.on('disconnect', () => {
    clearInterval(timer);
    process.kill(process.pid, 'SIGTERM');
  });
}
