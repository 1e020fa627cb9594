#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx: no build step between a clone and a run.
import { register } from 'tsx/esm/api';

register();
process.on('unhandledRejection', (reason) => {
  console.error('omnilive: unhandled rejection (kept running):', reason);
});
const { main } = await import('../cli.ts');
try {
  process.exitCode = await main();
} catch (error) {
  console.error(`omnilive: ${error instanceof Error ? error.message : error}`);
  process.exitCode = error instanceof TypeError ? 2 : 1;
}
