// OmniLive web client: microphone → /v1/realtime (OpenAI Realtime events) → transcript + speech.
import { MicCapture, PcmPlayer, bytesToBase64, openMicrophone } from './audio.js';

/** pcm16 rate we send: the session default (checked against session.created). */
const INPUT_RATE = 24000;
const REALTIME_URL = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/v1/realtime`;

const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);
const ui = {
  start: $('start-button'),
  status: $('status'),
  statusText: $('status').querySelector('.status-text'),
  meter: $('level-meter'),
  meterFill: $('level-meter').querySelector('.meter-fill'),
  activity: $('activity'),
  banner: $('error-banner'),
  bannerText: $('error-banner').querySelector('.banner-text'),
  bannerClose: $('error-banner').querySelector('.banner-close'),
  engines: $('engines'),
  noLlm: $('no-llm-note'),
  transcript: $('transcript'),
  empty: $('transcript-empty'),
  form: $('question-form'),
  input: $('question-input'),
  submit: $('question-submit'),
  announcer: $('announcer'),
};

// ---- state ----
let audioCtx = null;
let player = null;
let mic = null; // MicCapture while the microphone streams
let micStarting = false;
let run = 0; // bumped when things stop: async work begun earlier drops its result
let socket = null; // the WebSocket while connecting or connected
let live = false; // session.created has arrived on `socket`
let ready = null; // deferred settled by session.created / the socket closing
let session = null;
let outputRate = 24000;
let activeResponse = null; // id of the response in progress
const userTurns = new Map(); // item_id → turn
const answers = new Map(); // response_id → turn

// ---- small UI helpers ----
function setStatus(state, text) {
  ui.status.dataset.state = state;
  ui.statusText.textContent = text;
}

function showError(kind, message) {
  ui.banner.dataset.kind = kind;
  ui.bannerText.textContent = message;
  ui.banner.hidden = false;
}

function clearError(kind) {
  if (kind && ui.banner.dataset.kind !== kind) return;
  ui.banner.hidden = true;
  ui.bannerText.textContent = '';
  delete ui.banner.dataset.kind;
}

function setActivity(text) {
  ui.activity.textContent = text;
}

function restingActivity() {
  setActivity(mic && live ? 'Listening…' : '');
}

function setLevel(level) {
  const rms = level?.rms ?? 0;
  const db = rms > 0 ? 20 * Math.log10(rms) : -100;
  const pct = Math.round(Math.min(1, Math.max(0, (db + 60) / 60)) * 100);
  ui.meterFill.style.width = `${pct}%`;
  ui.meter.setAttribute('aria-valuenow', String(pct));
  ui.meter.toggleAttribute('data-clipping', (level?.peak ?? 0) > 0.98);
}

function renderStart() {
  const on = Boolean(mic || micStarting);
  ui.start.textContent = on ? 'Stop' : 'Start';
  ui.start.setAttribute('aria-pressed', String(on));
  if (socket && live) setStatus('live', mic ? 'Live' : 'Live · microphone off');
}

function announce(text) {
  ui.announcer.textContent = '';
  requestAnimationFrame(() => (ui.announcer.textContent = text));
}

function showEngines(engines) {
  if (!engines) return;
  const parts = [
    ['speech detection', engines.vad],
    ['recognition', engines.asr],
    ['answers', engines.reasoner],
    ['voice', engines.tts],
  ].filter(([, name]) => name);
  ui.engines.textContent = `Engines: ${parts.map(([what, name]) => `${what} ${name}`).join(' · ')}`;
  ui.noLlm.hidden = engines.language_model !== false;
}

// ---- transcript ----
/** Runs a transcript change; follows the newest text if the reader was at the bottom. */
function keepScrolled(update) {
  const page = document.scrollingElement;
  const atBottom = page.scrollHeight - page.scrollTop - page.clientHeight < 80;
  update();
  ui.empty.hidden = ui.transcript.childElementCount > 0;
  if (atBottom) page.scrollTop = page.scrollHeight;
}

function addTurn(role, label) {
  const li = document.createElement('li');
  li.className = 'turn';
  li.dataset.role = role;
  li.dataset.testid = 'turn';
  const who = document.createElement('span');
  who.className = 'who';
  who.textContent = label;
  const text = document.createElement('p');
  text.className = 'text';
  const meta = document.createElement('span');
  meta.className = 'meta';
  li.append(who, text, meta);
  keepScrolled(() => ui.transcript.append(li));
  return { li, textEl: text, metaEl: meta, value: '', flag: '', details: [] };
}

function renderTurn(turn, state) {
  keepScrolled(() => {
    if (state) turn.li.dataset.state = state;
    turn.textEl.textContent = turn.value;
    turn.metaEl.replaceChildren();
    if (turn.flag) {
      const flag = document.createElement('span');
      flag.className = 'flag';
      flag.textContent = turn.flag;
      turn.metaEl.append(flag);
    }
    const details = turn.details.filter(Boolean).join(' · ');
    if (details) turn.metaEl.append(`${turn.flag ? ' · ' : ''}${details}`);
  });
}

function addNote(text) {
  const turn = addTurn('note', '');
  turn.li.querySelector('.who').remove();
  turn.value = text;
  renderTurn(turn);
}

/** The user turn of a spoken item, created when first heard of. */
function userTurn(itemId, create = true) {
  let turn = userTurns.get(itemId);
  if (!turn && create) {
    turn = addTurn('user', 'You');
    turn.li.dataset.itemId = itemId;
    userTurns.set(itemId, turn);
    renderTurn(turn, 'partial');
  }
  return turn;
}

function answerTurn(responseId, modalities) {
  let turn = answers.get(responseId);
  if (!turn) {
    turn = addTurn('assistant', 'Assistant');
    turn.li.dataset.responseId = responseId;
    // Audio answers: show the transcript of what is spoken (it follows the speech);
    // text-only answers: the text deltas. Never both.
    turn.audio = (modalities ?? session?.output_modalities ?? ['audio']).includes('audio');
    answers.set(responseId, turn);
    renderTurn(turn, 'partial');
  }
  return turn;
}

function ms(value) {
  return typeof value === 'number' ? `${Math.round(value)} ms` : '–';
}

// ---- server events ----
function onServerEvent(ev) {
  switch (ev.type) {
    case 'session.created':
    case 'session.updated': {
      const first = ev.type === 'session.created';
      session = ev.session;
      outputRate = session.audio?.output?.format?.rate ?? 24000;
      if (player) player.rate = outputRate;
      showEngines(session.omnilive?.engines);
      if (first) {
        if (ui.transcript.childElementCount) addNote('New session');
        live = true;
        const rate = session.audio?.input?.format?.rate;
        if (rate && rate !== INPUT_RATE) send({ type: 'session.update', session: { audio: { input: { format: { type: 'audio/pcm', rate: INPUT_RATE } } } } });
        renderStart();
        restingActivity();
        ready.resolve();
      }
      break;
    }
    case 'error': {
      const { code, message } = ev.error ?? {};
      showError('server', `Server error${code ? ` ${code}` : ''}: ${message ?? 'unknown error'}`);
      break;
    }
    case 'input_audio_buffer.speech_started':
      player?.clear(); // barge-in: stop talking the moment the user does
      userTurn(ev.item_id);
      setActivity('Hearing you…');
      break;
    case 'input_audio_buffer.speech_stopped':
      setActivity('Thinking…');
      break;
    case 'conversation.item.added': {
      const item = ev.item;
      if (item?.role !== 'user') break;
      const content = item.content ?? [];
      if (content[0]?.type === 'input_text') {
        const turn = addTurn('user', 'You');
        turn.value = content.map((c) => c.text ?? '').join('\n');
        turn.details = ['typed'];
        userTurns.set(item.id, turn);
        renderTurn(turn, 'final');
      } else if (!userTurns.has(item.id)) {
        userTurn(item.id);
      }
      break;
    }
    case 'conversation.item.input_audio_transcription.delta': {
      const turn = userTurn(ev.item_id);
      turn.value += ev.delta ?? '';
      renderTurn(turn);
      break;
    }
    case 'conversation.item.input_audio_transcription.completed': {
      const turn = userTurn(ev.item_id);
      const text = (ev.transcript ?? '').trim();
      if (!text) {
        // Noise the recognizer found no words in: nothing to show, nothing will answer it.
        keepScrolled(() => turn.li.remove());
        userTurns.delete(ev.item_id);
        restingActivity();
        break;
      }
      turn.value = text;
      renderTurn(turn, 'final');
      announce(`You said: ${text}`);
      break;
    }
    case 'omnilive.turn.ignored': {
      const turn = userTurn(ev.item_id, false);
      if (turn) {
        turn.details.push(`not answered (${String(ev.reason ?? '').replace(/_/g, ' ')})`);
        renderTurn(turn);
      }
      restingActivity();
      break;
    }
    case 'response.created':
      activeResponse = ev.response.id;
      answerTurn(ev.response.id, ev.response.output_modalities);
      break;
    case 'response.output_audio_transcript.delta':
    case 'response.output_text.delta': {
      const turn = answerTurn(ev.response_id);
      if (turn.audio !== (ev.type === 'response.output_audio_transcript.delta')) break;
      turn.value += ev.delta ?? '';
      renderTurn(turn);
      break;
    }
    case 'response.output_audio.delta':
      if (activeResponse === ev.response_id && player) {
        player.enqueue(ev.delta);
        setActivity('Answering…');
      }
      break;
    case 'response.done': {
      const r = ev.response;
      const turn = answerTurn(r.id, r.output_modalities);
      if (activeResponse === r.id) activeResponse = null;
      if (r.status === 'completed') {
        const content = r.output?.[0]?.content?.[0];
        const final = (turn.audio ? content?.transcript : content?.text) ?? content?.transcript ?? content?.text;
        if (final) turn.value = final.trim();
        renderTurn(turn, 'final');
        announce(`Assistant: ${turn.value}`);
      } else if (r.status === 'cancelled') {
        player?.clear();
        const reason = r.status_details?.reason;
        turn.flag = reason === 'turn_detected' ? 'cancelled — you interrupted' : 'cancelled';
        turn.value = turn.value.trim();
        renderTurn(turn, 'cancelled');
      } else {
        const message = r.status_details?.error?.message;
        turn.flag = `failed${message ? `: ${message}` : ''}`;
        renderTurn(turn, 'failed');
      }
      if (!player?.playing) restingActivity();
      break;
    }
    case 'omnilive.metrics': {
      const turn = answers.get(ev.response_id);
      const l = ev.latency_ms ?? {};
      if (!turn || typeof l.first_audio_delta !== 'number') break;
      turn.details.push(`first audio ${ms(l.first_audio_delta)} after you stopped`);
      turn.li.title = `After the end of speech: turn detected ${ms(l.end_of_turn)}, transcript ${ms(l.asr_final)}, first answer token ${ms(l.first_llm_token)}, first speech ${ms(l.first_tts_audio)}, first audio sent ${ms(l.first_audio_delta)}`;
      turn.li.dataset.latencyMs = String(Math.round(l.first_audio_delta));
      renderTurn(turn);
      break;
    }
    default:
      break;
  }
}

// ---- connection ----
function send(event) {
  if (!socket || socket.readyState !== WebSocket.OPEN) return false;
  socket.send(JSON.stringify(event));
  return true;
}

function deferred() {
  const d = {};
  d.promise = new Promise((resolve, reject) => Object.assign(d, { resolve, reject }));
  d.promise.catch(() => {}); // a rejection nobody awaits is not an error here
  return d;
}

/** Opens the session if needed; resolves once session.created arrived. */
function connect() {
  if (socket) return ready.promise;
  const ws = new WebSocket(REALTIME_URL);
  socket = ws;
  live = false;
  session = null;
  activeResponse = null;
  ready = deferred();
  setStatus('connecting', 'Connecting…');
  ws.onmessage = (message) => {
    if (socket !== ws || typeof message.data !== 'string') return;
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    onServerEvent(event);
  };
  ws.onclose = (e) => {
    if (socket === ws) onSocketLost(e);
  };
  return ready.promise;
}

/** The server went away (or never answered): stop the microphone and say so. */
function onSocketLost(e) {
  const wasLive = live;
  run++;
  socket = null;
  live = false;
  activeResponse = null;
  ready.reject(new Error('connection closed'));
  micStarting = false;
  stopMic();
  player?.clear();
  if (wasLive) {
    setStatus('closed', 'Disconnected');
    const code = e.code && e.code !== 1005 ? ` (code ${e.code}${e.reason ? `: ${e.reason}` : ''})` : '';
    showError('network', `The connection to the server was closed${code}. Press Start to reconnect.`);
  } else {
    setStatus('error', 'Server unreachable');
    showError('network', `Could not reach the OmniLive server at ${REALTIME_URL}. Check that it is running, then press Start again.`);
  }
  setActivity('');
  renderStart();
}

// ---- audio ----
function ensureAudio() {
  if (!audioCtx) {
    audioCtx = new AudioContext({ latencyHint: 'interactive' });
    player = new PcmPlayer(audioCtx, { rate: outputRate, onIdle: () => activeResponse === null && restingActivity() });
  }
  // Called from a click or submit: browsers allow starting audio then.
  if (audioCtx.state === 'suspended') audioCtx.resume().catch(() => {});
}

function onChunk(pcm, level) {
  setLevel(level);
  if (!live || !socket || socket.readyState !== WebSocket.OPEN) return;
  if (socket.bufferedAmount > 1 << 20) return; // a stalled network: drop rather than pile up
  send({ type: 'input_audio_buffer.append', audio: bytesToBase64(new Uint8Array(pcm)) });
}

function stopMic() {
  if (mic) {
    mic.stop();
    mic = null;
  }
  setLevel(null);
}

function micErrorMessage(error) {
  switch (error?.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'Microphone permission was denied. Allow microphone access for this site (the icon in the address bar), then press Start again. You can still type questions.';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'No microphone was found. Connect a microphone, then press Start again. You can still type questions.';
    case 'NotReadableError':
    case 'AbortError':
      return 'The microphone could not be opened: another application may be using it.';
    case 'InsecureContextError':
      return 'The microphone needs a secure page: open this app over https:// (or on http://localhost).';
    default:
      return `The microphone could not be started: ${error?.message ?? error}`;
  }
}

async function start() {
  const myRun = run;
  clearError();
  micStarting = true;
  renderStart();
  ensureAudio();
  connect(); // in parallel with the permission prompt; failures are reported by onSocketLost
  let stream;
  try {
    stream = await openMicrophone();
  } catch (error) {
    if (myRun !== run) return;
    micStarting = false;
    renderStart();
    showError('mic', micErrorMessage(error));
    return;
  }
  if (myRun !== run) {
    for (const track of stream.getTracks()) track.stop();
    return;
  }
  let capture;
  try {
    capture = await MicCapture.start(audioCtx, stream, { targetRate: INPUT_RATE, onChunk });
  } catch (error) {
    for (const track of stream.getTracks()) track.stop();
    if (myRun !== run) return;
    micStarting = false;
    renderStart();
    showError('mic', `Audio capture could not start: ${error?.message ?? error}`);
    return;
  }
  if (myRun !== run) {
    capture.stop();
    return;
  }
  mic = capture;
  micStarting = false;
  capture.track?.addEventListener('ended', () => {
    if (mic !== capture) return;
    stopMic();
    renderStart();
    restingActivity();
    showError('mic', 'The microphone stopped (unplugged or disabled). Press Start to use it again.');
  });
  renderStart();
  restingActivity();
}

/** Stops the microphone, the session and playback. */
function stop() {
  run++;
  micStarting = false;
  stopMic();
  if (socket) {
    const ws = socket;
    socket = null;
    live = false;
    ready.reject(new Error('stopped'));
    ws.close(1000, 'client stopped');
    setStatus('closed', 'Closed');
  }
  activeResponse = null;
  player?.clear();
  if (audioCtx) {
    audioCtx.close().catch(() => {});
    audioCtx = null;
    player = null;
  }
  setActivity('');
  renderStart();
}

// ---- wiring ----
ui.start.addEventListener('click', () => (mic || micStarting ? stop() : start()));
ui.bannerClose.addEventListener('click', () => clearError());

ui.form.addEventListener('submit', async (e) => {
  e.preventDefault();
  const text = ui.input.value.trim();
  if (!text) return;
  ensureAudio();
  ui.submit.disabled = true;
  try {
    await connect(); // typing works without the microphone too
  } catch {
    return; // onSocketLost said why
  } finally {
    ui.submit.disabled = false;
  }
  // A new question supersedes the answer in progress, and whatever of it is still playing.
  if (activeResponse) send({ type: 'response.cancel' });
  player?.clear();
  send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] } });
  send({ type: 'response.create' });
  ui.input.value = '';
  ui.input.focus();
});

window.addEventListener('pagehide', () => {
  if (socket || mic) stop();
});

// Show the engines before the first session, when the server is up.
fetch('/healthz')
  .then((r) => (r.ok ? r.json() : null))
  .then((health) => {
    if (health && !session) showEngines(health.engines);
  })
  .catch(() => {});
