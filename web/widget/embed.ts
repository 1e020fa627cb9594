// /embed?agent=NAME: the widget inside an iframe, for sites that cannot add a script. The frame
// forwards the widget's events to the embedding page, and takes commands from it, only for the
// origins the agent names (the page's data-parents; CSP frame-ancestors keeps other sites out).
import './omnilive';

type Command = { omnilive: 'start' | 'end' | 'mute' | 'sendText'; text?: string; muted?: boolean };

const widget = document.querySelector('omnilive-assistant') as (HTMLElement & { start(): void; end(): void; mute(m: boolean): void; sendText(t: string): void }) | null;
const parents = (widget?.dataset.parents ?? '').split(/\s+/).filter(Boolean);
const ancestor = location.ancestorOrigins?.[0] ?? (document.referrer ? new URL(document.referrer).origin : '');
const parentOrigin = window.parent !== window && parents.includes(ancestor) ? ancestor : undefined;

if (widget && parentOrigin) {
  for (const type of ['omnilive:state', 'omnilive:transcript', 'omnilive:response', 'omnilive:error']) {
    widget.addEventListener(type, (e) => window.parent.postMessage({ source: 'omnilive', type, detail: (e as CustomEvent).detail }, parentOrigin));
  }
  window.addEventListener('message', (e: MessageEvent<Command>) => {
    if (e.origin !== parentOrigin || e.source !== window.parent || typeof e.data?.omnilive !== 'string') return;
    const command = e.data;
    if (command.omnilive === 'sendText' && typeof command.text === 'string') widget.sendText(command.text.slice(0, 4000));
    else if (command.omnilive === 'mute') widget.mute(command.muted !== false);
    else if (command.omnilive === 'end') widget.end();
    else if (command.omnilive === 'start') widget.start();
  });
  window.parent.postMessage({ source: 'omnilive', type: 'omnilive:ready', detail: {} }, parentOrigin);
}

// An iframe without allow="microphone" cannot ask for it: offer a window of its own, and typing.
const policy = (document as Document & { permissionsPolicy?: { allowsFeature(f: string): boolean }; featurePolicy?: { allowsFeature(f: string): boolean } });
const rules = policy.permissionsPolicy ?? policy.featurePolicy;
if (rules && !rules.allowsFeature('microphone')) {
  const popout = document.getElementById('popout');
  if (popout) popout.hidden = false;
  widget?.setAttribute('data-no-microphone', '');
}
