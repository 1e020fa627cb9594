// The benchmark's browser side: a "camera" that draws the wall clock into every frame (a
// canvas stream) and a "mic" that beeps at known wall-clock times (WebAudio), sent over
// the web app's own WebRTC uplink. Bundled by esbuild; window.bench is driven by playwright.
import { RealtimeClient } from '../../web/lib/realtime-client.ts';
import { WebRtcUplink } from '../../web/lib/webrtc.ts';
import { stampCells, STAMP_COLS, STAMP_ROWS } from './stamp.ts';

const now = () => performance.timeOrigin + performance.now();

async function start(url) {
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
  const ctx = new AudioContext({ sampleRate: 48000 });
  const destination = ctx.createMediaStreamDestination();
  // A faint hum keeps the track's audio continuous between beeps, as a live microphone's is.
  const hum = ctx.createOscillator();
  const humGain = ctx.createGain();
  hum.frequency.value = 120;
  humGain.gain.value = 0.002;
  hum.connect(humGain).connect(destination);
  hum.start();
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
  window.bench = {
    beeps,
    stop() {
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

window.startBench = start;
