// The server under fuzz (benchmarks/fuzz/index.ts), in a process of its own: the storm's client
// does not share its heap, and a crash shows as an exit. Like `omnilive serve`, it keeps running
// on an unhandled rejection, but counts each one for the report.
//   argv[2]: the settings, as JSON. IPC: { type: 'memory' } → memory after a full GC; { type: 'close' }.
import v8 from 'node:v8';
import vm from 'node:vm';
import { startServer } from '../../test/helpers/server.ts';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

type Reply = { type: 'ready'; port: number; webrtc: boolean } | { type: 'memory'; rss: number; heapUsed: number; external: number } | { type: 'rejection'; message: string };
const reply = (message: Reply) => process.send?.(message);

process.on('unhandledRejection', (reason) => {
  console.error('fuzz server: unhandled rejection (kept running):', reason);
  reply({ type: 'rejection', message: String((reason as Error)?.stack ?? reason).slice(0, 2000) });
});

const server = await startServer(JSON.parse(process.argv[2] ?? '{}'));
process.on('message', async (message: { type: string; gc?: boolean }) => {
  if (message.type === 'memory') {
    if (message.gc) gc();
    const { rss, heapUsed, external } = process.memoryUsage();
    reply({ type: 'memory', rss, heapUsed, external });
  } else if (message.type === 'close') {
    await server.close();
    process.exit(0);
  }
});
reply({ type: 'ready', port: server.port, webrtc: server.server.media !== undefined });
