// The panel's styles: inside the shadow root only. Every element sets its own font and colours,
// so nothing the host page inherits or forces with `*` reaches in; themes use custom properties
// (--omnilive-*) and ::part().
export const PANEL_CSS = `
.panel { all: initial; box-sizing: border-box; display: flex; flex-direction: column; gap: 8px;
  width: min(380px, calc(100vw - 24px)); max-height: min(560px, calc(100vh - 40px)); padding: 12px;
  background: var(--omnilive-bg, #fff); color: var(--omnilive-text, #1c2330); border: 1px solid var(--omnilive-border, #dde1e8);
  border-radius: var(--omnilive-radius, 14px); box-shadow: 0 8px 30px rgba(0,0,0,.18);
  font: 14px/1.4 var(--omnilive-font, system-ui, -apple-system, "Segoe UI", sans-serif); }
.panel.inline { box-shadow: none; width: 100%; }
.panel * { box-sizing: border-box; font: inherit; color: inherit; letter-spacing: normal; text-transform: none; }
header { display: flex; align-items: center; gap: 8px; }
header strong { font-weight: 700; }
.status { color: var(--omnilive-muted, #5d6778); font-size: 12px; }
.spacer { flex: 1; }
button { all: unset; box-sizing: border-box; cursor: pointer; font: 600 13px/1 var(--omnilive-font, system-ui, sans-serif); padding: 8px 12px; border-radius: 999px; }
button.primary { background: var(--omnilive-accent, #2f6fed); color: var(--omnilive-on-accent, #fff); }
button.quiet { background: transparent; color: var(--omnilive-text, #1c2330); border: 1px solid var(--omnilive-border, #dde1e8); }
button:focus-visible, input:focus-visible { outline: 3px solid var(--omnilive-focus, #9cc0ff); outline-offset: 2px; }
.consent { background: var(--omnilive-note, #f1f5ff); border-radius: 10px; padding: 10px; display: flex; flex-direction: column; gap: 8px; }
.consent[hidden], .problem[hidden] { display: none; }
.consent p, .problem, .partial { margin: 0; }
.problem { display: flex; gap: 8px; align-items: center; justify-content: space-between; background: var(--omnilive-error-bg, #fdecea); color: var(--omnilive-error-text, #7a1c14); border-radius: 10px; padding: 8px 10px; }
.problem[data-kind="reconnected"] { background: var(--omnilive-note, #f1f5ff); color: var(--omnilive-text, #1c2330); }
.log { list-style: none; margin: 0; padding: 0; overflow-y: auto; flex: 1; min-height: 60px; display: flex; flex-direction: column; gap: 6px; }
.log li { padding: 6px 10px; border-radius: 12px; max-width: 85%; white-space: pre-wrap; }
.log li.user { align-self: flex-end; background: var(--omnilive-user, #e8f0fe); }
.log li.assistant { align-self: flex-start; background: var(--omnilive-answer, #f3f4f6); }
.log li:empty { display: none; }
video { width: 100%; max-height: 160px; border-radius: 10px; background: #0d0f12; object-fit: cover; }
video[hidden] { display: none; }
.partial { color: var(--omnilive-muted, #5d6778); font-style: italic; min-height: 1.2em; }
.row { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
button[hidden] { display: none; }
input { all: unset; box-sizing: border-box; flex: 1; min-width: 0; padding: 8px 10px; border: 1px solid var(--omnilive-border, #dde1e8); border-radius: 10px; background: var(--omnilive-bg, #fff); font: 14px/1.2 var(--omnilive-font, system-ui, sans-serif); }
@media (max-width: 480px) { .panel:not(.inline) { width: calc(100vw - 16px); max-height: calc(100vh - 16px); } }
`;
