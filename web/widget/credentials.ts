// How the widget gets a session: a client secret from the site's own backend (token-url), or
// from a named agent on the OmniLive server; without either, no credential (a keyless server's
// own pages and allowlisted sites).
import { AccessProblem, errorMessage } from '../lib/access';
import type { WidgetConfig } from './attributes';

const VISITOR_ITEM = 'omnilive.visitor';

/** A random id this browser keeps for an agent that remembers its visitors. */
function visitorId(): string | undefined {
  try {
    let id = localStorage.getItem(VISITOR_ITEM);
    if (!id) {
      const bytes = crypto.getRandomValues(new Uint8Array(18));
      id = btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
      localStorage.setItem(VISITOR_ITEM, id);
    }
    return id;
  } catch {
    return undefined; // storage blocked: an anonymous visit
  }
}

/** Subprotocols for one new session: `realtime` and a fresh secret. Throws AccessProblem with what to tell the visitor. */
export function widgetCredential(config: WidgetConfig): () => Promise<string[] | undefined> {
  return async () => {
    let res: Response;
    if (config.tokenUrl) {
      res = await fetch(config.tokenUrl, { credentials: 'same-origin', cache: 'no-store' });
    } else if (config.agent) {
      const visitor = visitorId();
      try {
        res = await fetch(new URL(`/v1/agents/${encodeURIComponent(config.agent)}/client_secrets`, config.server), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(visitor ? { visitor } : {}),
        });
      } catch {
        // A page the server does not know is refused at the CORS preflight, which a browser
        // reports exactly like a network failure.
        throw new AccessProblem(`The assistant is not available here: ${config.server} did not accept this site (or cannot be reached).`, { retryable: true });
      }
    } else {
      return undefined;
    }
    if (res.status === 429) throw new AccessProblem(`The assistant is busy right now; try again in ${res.headers.get('retry-after') ?? 'a few'} seconds.`, { retryable: true });
    // 5xx: the site's backend or the server is down or restarting — worth another try later.
    if (!res.ok) throw new AccessProblem(`The assistant is not available here: ${await errorMessage(res)}`, { retryable: res.status >= 500 });
    const body = (await res.json()) as { value?: string; client_secret?: { value?: string } };
    const value = body.value ?? body.client_secret?.value;
    if (!value) throw new AccessProblem('The assistant is not available here: the token has no value.');
    return ['realtime', `openai-insecure-api-key.${value}`];
  };
}
