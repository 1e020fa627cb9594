// Every attribute of <omnilive-assistant>, once: its name, what it is for, and its default.
// The element reads its configuration only through this table.

export const ATTRIBUTES = {
  server: { doc: 'origin of the OmniLive server, e.g. https://assistant.example.com', fallback: '' },
  'token-url': { doc: "your backend's URL that returns a client secret ({ value: 'ek_…' }) for this visitor", fallback: '' },
  agent: { doc: 'a named agent configured on the server (--agents), for sites without a backend', fallback: '' },
  mode: { doc: "'floating' (a button in the corner) or 'inline' (a panel where the element is)", fallback: 'floating' },
  vision: { doc: 'present: the visitor may turn on the camera to show the assistant something', fallback: null },
  'label-start': { doc: 'text of the start button', fallback: 'Talk to the assistant' },
  'label-title': { doc: 'title of the panel', fallback: 'Assistant' },
  'label-consent': { doc: 'what the visitor is told before the browser asks for the microphone', fallback: 'The assistant listens through your microphone while this panel is open, and answers out loud.' },
} as const;

export type AttributeName = keyof typeof ATTRIBUTES;

export interface WidgetConfig {
  server: string;
  tokenUrl: string;
  agent: string;
  mode: 'floating' | 'inline';
  vision: boolean;
  labels: { start: string; title: string; consent: string };
}

/** The element's configuration from its attributes (defaults where absent; the server: where the script came from). */
export function readConfig(el: HTMLElement, scriptUrl: string): WidgetConfig {
  const get = (name: AttributeName): string => el.getAttribute(name) ?? ATTRIBUTES[name].fallback ?? '';
  const server = get('server') || scriptUrl;
  return {
    server: new URL(server, location.href).origin,
    tokenUrl: get('token-url'),
    agent: get('agent'),
    mode: get('mode') === 'inline' ? 'inline' : 'floating',
    vision: el.hasAttribute('vision'),
    labels: { start: get('label-start'), title: get('label-title'), consent: get('label-consent') },
  };
}
