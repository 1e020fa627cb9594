// The load benchmark's browser session: the web app's own RealtimeClient, WebRTC uplink and
// answer voice, fed by a canvas "camera" showing the benchmark's scenes and a WebAudio "mic"
// that says the benchmark's sentences with pauses, waiting for each answer to play out — the
// same conversation as the WebSocket sessions (live-session.ts). Bundled by esbuild, driven by
// playwright: window.load.take() hands over the finished turns. Times are epoch ms.
import { RealtimeClient } from '../../web/lib/realtime-client.ts';
import { WebRtcUplink, WebRtcVoice } from '../../web/lib/webrtc.ts';
import { humMicrophone } from '../live-sessions/page-audio.mjs';
import { seededRandom } from '../seeded-random.ts';

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const round1 = (x) => Math.round(x * 10) / 10;
const VAD_FRAME_MS = 32;
const OUTPUT_RATE = 24000;
const EVENT_WINDOW = 4000;

function pcmFromBase64(b64) {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return new Int16Array(bytes.buffer, 0, bytes.length >> 1);
}

async function start(url, cfg) {
  const random = seededRandom(cfg.seed); // each page's pauses and scenes differ, reproducibly
  const done = [];
  const problems = [];
  const problem = (text) => problems.push(text);
  let stopping = false;
  let turnStartedAt = null;

  // ---- camera: the scenes on a canvas, with a small moving mark so frames keep coming ----
  const canvas = Object.assign(document.createElement('canvas'), { width: 640, height: 360 });
  document.body.append(canvas);
  const g = canvas.getContext('2d');
  const images = await Promise.all(
    cfg.scenes.map(
      (jpeg) =>
        new Promise((resolve, reject) => {
          const img = new Image();
          img.onload = () => resolve(img);
          img.onerror = reject;
          img.src = `data:image/jpeg;base64,${jpeg}`;
        }),
    ),
  );
  let scene = Math.floor(random() * images.length);
  let sceneEnds = now() + cfg.sceneMs[0] + random() * (cfg.sceneMs[1] - cfg.sceneMs[0]);
  let tick = 0;
  const draw = () => {
    if (now() >= sceneEnds) {
      scene = (scene + 1 + Math.floor(random() * (images.length - 1))) % images.length;
      sceneEnds = now() + cfg.sceneMs[0] + random() * (cfg.sceneMs[1] - cfg.sceneMs[0]);
    }
    g.drawImage(images[scene], 0, 0, 640, 360);
    g.fillStyle = '#888';
    g.fillRect((tick++ * 4) % 640, 350, 10, 10);
  };
  draw();
  const drawTimer = setInterval(draw, 1000 / 15); // the web app asks the camera for 15 fps
  const video = canvas.captureStream(15).getVideoTracks()[0];

  // ---- mic: WebAudio into a MediaStream, a faint hum between sentences ----
  const { ctx, destination } = humMicrophone();
  const lines = cfg.lines.map((l) => {
    const pcm = pcmFromBase64(l.pcm);
    const buffer = ctx.createBuffer(1, pcm.length, l.rate);
    const ch = buffer.getChannelData(0);
    for (let i = 0; i < pcm.length; i++) ch[i] = pcm[i] / 32768;
    return { text: l.text, buffer, offsetMs: (l.offset * 1000) / l.rate };
  });
  /** Plays a sentence; resolves when it has played, with the wall time of its last speech sample. */
  const say = (line) =>
    new Promise((resolve) => {
      const source = ctx.createBufferSource();
      source.buffer = line.buffer;
      source.connect(destination);
      const lead = 0.05;
      const startAt = now() + lead * 1000;
      source.onended = () => resolve({ offsetAt: startAt + line.offsetMs });
      source.start(ctx.currentTime + lead);
    });
  const stream = new MediaStream([destination.stream.getAudioTracks()[0], video]);

  // ---- the session ----
  let seq = 0;
  const events = [];
  const waiters = new Set();
  const playback = new Map();
  const client = await RealtimeClient.connect(url);
  client.on((event) => {
    const e = { ...event, seq: ++seq, recvAt: now() };
    if (e.type === 'response.output_audio.delta') {
      const ms = (pcmFromBase64(e.delta).length * 1000) / OUTPUT_RATE;
      e.delta = '';
      const p = playback.get(e.response_id) ?? { firstAt: e.recvAt, playedUntil: e.recvAt, audioMs: 0 };
      p.playedUntil = Math.max(p.playedUntil, e.recvAt) + ms;
      p.audioMs += ms;
      playback.set(e.response_id, p);
    } else if (e.type === 'error') {
      problem(`server error ${e.error?.code}: ${e.error?.message}`);
    }
    events.push(e);
    if (events.length > EVENT_WINDOW) events.splice(0, EVENT_WINDOW / 2);
    for (const w of waiters) {
      if (w.match(e)) {
        waiters.delete(w);
        w.resolve(e);
      }
    }
  });
  const between = (type, after, match = () => true) => events.filter((e) => e.type === type && e.seq > after && match(e));
  const next = (type, after, match, timeoutMs) => {
    const seen = events.find((e) => e.type === type && e.seq > after && match(e));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const w = { match: (e) => e.type === type && match(e), resolve };
      waiters.add(w);
      setTimeout(() => {
        if (waiters.delete(w)) resolve(undefined);
      }, timeoutMs);
    });
  };
  const mark0 = seq;
  client.send({ type: 'session.update', session: { type: 'realtime', audio: { input: { turn_detection: { type: 'server_vad' } } } } });
  const updated = await next('session.updated', mark0, () => true, 10_000);
  const silenceMs = updated?.session?.audio?.input?.turn_detection?.silence_duration_ms ?? 500;
  const waitedMs = Math.ceil(silenceMs / VAD_FRAME_MS) * VAD_FRAME_MS;
  const uplink = await WebRtcUplink.start(client, stream);
  // The web app receives the answers' voice over WebRTC too: the server encodes it for us.
  const voice = await WebRtcVoice.start(client, uplink.device, () => {});

  async function turn(line) {
    const r = { session: cfg.index, at: 0, said: line.text, heard: null, status: 'no_response', startLagMs: null, stopLagMs: null, serverStopLagMs: null, overheadMs: null, latency: null, compute: null, clientFirstAudioMs: null, answerAudioMs: 0 };
    const fail = (status, why) => {
      r.status = status;
      if (why && !stopping) problem(`"${line.text}": ${why}`);
      return r;
    };
    const mark = seq;
    const said = await say(line);
    r.at = said.offsetAt;
    // WebRTC and the decoder add their delay before the server hears the end.
    await sleep(500);
    const started = between('input_audio_buffer.speech_started', mark).at(-1) ?? (await next('input_audio_buffer.speech_started', mark, () => true, 8000));
    if (!started) return fail('not_detected', 'never detected as speech');
    const stopped = await next('input_audio_buffer.speech_stopped', mark, (e) => e.item_id === started.item_id, 10_000);
    if (!stopped) return fail('no_end_of_turn', 'no speech_stopped within 10 s');
    const heard = await next('conversation.item.input_audio_transcription.completed', mark, (e) => e.item_id === started.item_id, 30_000);
    if (!heard) return fail('no_transcript', 'no transcript within 30 s');
    r.heard = heard.transcript;
    const outcome = await Promise.race([next('response.created', started.seq, () => true, 30_000), next('omnilive.turn.ignored', mark, (e) => e.item_id === started.item_id, 30_000)]);
    if (!outcome) return fail('no_response', `heard "${heard.transcript}" but no answer nor turn.ignored within 30 s`);
    if (outcome.type === 'omnilive.turn.ignored') return fail(`ignored:${outcome.reason}`);
    const id = outcome.response.id;
    const finished = await next('response.done', outcome.seq, (e) => e.response?.id === id, 120_000);
    if (!finished) return fail('no_response', 'the answer did not finish within 120 s');
    r.status = finished.response.status === 'completed' ? 'answered' : finished.response.status;
    const metrics = await next('omnilive.metrics', outcome.seq, (e) => e.response_id === id, 5000);
    if (metrics) {
      r.overheadMs = metrics.pipeline_overhead_ms ?? null;
      r.latency = metrics.latency_ms ?? null;
      r.compute = metrics.compute_ms ?? null;
      if (typeof metrics.latency_ms?.end_of_turn === 'number') r.serverStopLagMs = round1(metrics.latency_ms.end_of_turn - waitedMs);
    }
    const p = playback.get(id);
    playback.delete(id);
    if (p) {
      r.clientFirstAudioMs = round1(p.firstAt - said.offsetAt);
      r.answerAudioMs = round1(p.audioMs);
      await sleep(Math.max(0, p.playedUntil - now()) + 200);
    }
    return r;
  }

  const conversation = (async () => {
    await sleep(random() * 3000);
    let i = Math.floor(random() * lines.length);
    while (!stopping && client.open) {
      let r;
      turnStartedAt = now();
      try {
        r = await turn(lines[i++ % lines.length]);
      } catch (error) {
        problem(String(error?.message ?? error));
        r = { session: cfg.index, at: now(), said: lines[(i - 1) % lines.length].text, status: 'error' };
      }
      turnStartedAt = null;
      done.push(r);
      if (stopping) break;
      await sleep(cfg.pauseMs[0] + random() * (cfg.pauseMs[1] - cfg.pauseMs[0]));
    }
  })();

  window.load = {
    take() {
      return { turns: done.splice(0), problems: problems.splice(0), open: client.open, turnStartedAt };
    },
    async stop() {
      stopping = true;
      await Promise.race([conversation, sleep(20_000)]);
      voice.close();
      uplink.close();
      client.close();
      clearInterval(drawTimer);
      stream.getTracks().forEach((t) => t.stop());
      await ctx.close();
    },
  };
  return true;
}

window.startLoad = start;
