// The benchmark's browser side: a "camera" that draws the wall clock into every frame (a
// canvas stream) and a "mic" that beeps at known wall-clock times (WebAudio), sent over
// the web app's own WebRTC uplink; and the answer voice track received as the app receives
// it, with the wall-clock time of each beep the server sends heard in it. Bundled by esbuild;
// window.bench is driven by playwright.
import { RealtimeClient } from '../../web/lib/realtime-client.ts';
import { WebRtcUplink, WebRtcVoice } from '../../web/lib/webrtc.ts';
import { humMicrophone } from '../live-sessions/page-audio.mjs';
import { stampCells, STAMP_COLS, STAMP_ROWS } from './stamp.ts';

const now = () => performance.timeOrigin + performance.now();

async function start(url, withVoice) {
  const canvas = Object.assign(document.createElement('canvas'), { width: 640, height: 360 });
  document.body.append(canvas);
  const g = canvas.getContext('2d');
  const draw = () => {
    const cells = stampCells(now());
    const w = canvas.width / STAMP_COLS;
    const h = canvas.height / STAMP_ROWS;
    cells.forEach((white, i) => {
      g.fillStyle = white ? '#fff' : '#000';
      g.fillRect((i % STAMP_COLS) * w, Math.floor(i / STAMP_COLS) * h, w, h);
    });
  };
  draw();
  const drawTimer = setInterval(draw, 1000 / 30);
  const video = canvas.captureStream(30).getVideoTracks()[0];

  // Beeps: 300 ms of 1 kHz every 2 s, started at once (not scheduled ahead on the audio clock,
  // whose rate may drift from the wall clock when several pages render audio headless).
  const { ctx, destination } = humMicrophone();
  const beeps = [];
  const schedule = () => {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = 1000;
    gain.gain.value = 0.5;
    osc.connect(gain).connect(destination);
    beeps.push(now());
    osc.start();
    osc.stop(ctx.currentTime + 0.3);
  };
  const beepTimer = setInterval(schedule, 2000);
  const stream = new MediaStream([destination.stream.getAudioTracks()[0], video]);

  const client = await RealtimeClient.connect(url);
  const uplink = await WebRtcUplink.start(client, stream);
  const voice = withVoice ? await WebRtcVoice.start(client, uplink.device, () => {}) : undefined;
  const heard = voice ? await listenForOnsets(ctx, voice.track) : []; // one audio context a page: 8 pages share 2 cores
  window.bench = {
    beeps,
    heard,
    stop() {
      voice?.close();
      clearInterval(drawTimer);
      clearInterval(beepTimer);
      uplink.close();
      client.close();
      stream.getTracks().forEach((t) => t.stop());
      void ctx.close();
    },
  };
  return true;
}

// Runs on the audio thread: every 128-sample block of the voice track, an onset is the first
// loud block after a quiet one.
const ONSET_WORKLET = `
registerProcessor('onset', class extends AudioWorkletProcessor {
  loud = false;
  process(inputs) {
    const x = inputs[0] && inputs[0][0];
    if (!x) return true;
    let sum = 0;
    for (let i = 0; i < x.length; i++) sum += x[i] * x[i];
    const rms = Math.sqrt(sum / x.length);
    if (rms > 0.05 && !this.loud) this.port.postMessage(0);
    if (rms > 0.05) this.loud = true;
    else if (rms < 0.01) this.loud = false;
    return true;
  }
});`;

/** Wall-clock times at which beeps were heard on the track (the app plays it from an <audio> element too). */
async function listenForOnsets(ctx, track) {
  await ctx.audioWorklet.addModule(URL.createObjectURL(new Blob([ONSET_WORKLET], { type: 'text/javascript' })));
  const onset = new AudioWorkletNode(ctx, 'onset');
  ctx.createMediaStreamSource(new MediaStream([track])).connect(onset).connect(ctx.destination);
  const heard = [];
  onset.port.onmessage = () => heard.push(now());
  return heard;
}

window.startBench = start;
