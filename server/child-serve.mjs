// The child side of ChildRpc (child-rpc.ts), shared by the engine processes.

/** Sends to the parent while it is there. */
export const reply = (message) => process.connected && process.send(message);

/**
 * Loads the engine, answers requests strictly one at a time in order (interleaving frames
 * across awaits would only make each later), and exits with its parent. `handle` returns the
 * reply's fields; `ready` the fields of the ready message.
 */
export async function serveRequests(load, handle, ready = () => ({})) {
  let engine;
  try {
    engine = await load();
  } catch (error) {
    reply({ fatal: String(error?.stack ?? error) });
    process.exit(1);
  }
  let queue = Promise.resolve();
  process.on('message', (msg) => {
    if (msg.close) return process.disconnect();
    queue = queue.then(async () => {
      try {
        reply({ id: msg.id, ...(await handle(engine, msg)) });
      } catch (error) {
        reply({ id: msg.id, error: String(error?.message ?? error) });
      }
    });
  });
  // The parent going away ends this process too.
  process.on('disconnect', () => process.exit(0));
  reply({ ready: true, ...ready(engine) });
}
