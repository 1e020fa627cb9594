/**
 * Connecting as a site's user: a client secret minted with the site's API key, then the secret
 * offered as a subprotocol beside `realtime`, as a browser (which cannot set headers) does.
 */
import type { TestServer } from './server.ts';
import { RawClient } from './ws-client.ts';

/** A browser-like connection: Origin header and the secret as a subprotocol beside `realtime`. */
export function browserClient(t: TestServer, secret: string, origin?: string): RawClient {
  return new RawClient(t, { protocols: ['realtime', `openai-insecure-api-key.${secret}`], headers: origin ? { origin } : {} });
}

/** An open text session for `user`, on a secret minted with the API key `key`. */
export async function sessionOf(t: TestServer, key: string, user: string): Promise<RawClient> {
  const res = await fetch(`http://127.0.0.1:${t.port}/v1/realtime/client_secrets`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ session: { type: 'realtime', output_modalities: ['text'] }, omnilive: { user } }),
  });
  const { value } = (await res.json()) as { value: string };
  const client = browserClient(t, value);
  await client.opened;
  return client;
}
