import type { Agent } from '../access/index.ts';

/** Attribute values in the page are our own config, but escape them all the same. */
function esc(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * `/embed?agent=NAME`: the widget as a page for sites that can only add an iframe. Only the
 * agent's sites may frame it (CSP frame-ancestors); its scripts are files of this server (no
 * inline script), and it talks to the embedding page through a postMessage bridge that
 * checks origins both ways (web/widget/embed.ts).
 */
export function embedPage(agent: Agent, vision: boolean): { headers: Record<string, string>; body: string } {
  const parents = agent.origins.join(' ');
  const csp = [
    `frame-ancestors ${parents}`,
    "default-src 'self'",
    "script-src 'self'",
    "connect-src 'self' ws: wss:",
    "style-src 'self'",
    "img-src 'self' data:",
    "media-src 'self' blob:",
  ].join('; ');
  const name = esc(agent.name);
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Assistant</title><link rel="stylesheet" href="/widget/embed.css">
<script type="module" src="/widget/v1/embed.js"></script></head>
<body><omnilive-assistant agent="${name}" mode="inline"${vision ? ' vision' : ''} data-parents="${esc(parents)}"></omnilive-assistant>
<p id="popout" hidden>This page blocks the microphone here. <a href="/embed?agent=${encodeURIComponent(agent.name)}${vision ? '&amp;vision' : ''}" target="_blank" rel="noopener">Talk in a new window</a>, or type below.</p>
</body></html>`;
  return { headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': csp, 'cache-control': 'no-store', 'referrer-policy': 'strict-origin' }, body };
}
