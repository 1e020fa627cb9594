/**
 * WebRTC media benchmark: glass-to-session latency, answer-voice latency back to the page,
 * and server CPU per browser session.
 *
 * Each browser session (headless Chromium, one context each) runs page.mjs: a canvas
 * "camera" drawing the wall clock into every frame (stamp.ts) and a WebAudio "mic" beeping
 * at known wall-clock times, sent through the web app's own WebRtcUplink to a real server
 * in this process (mediasoup → PlainTransport → ffmpeg → Session). The Session's
 * appendVideoFrame / appendAudio are observed (wrapped, then called as usual):
 *   video latency = arrival of a decoded frame in the session − the time drawn into it;
 *   audio latency = arrival of the pcm chunk holding a beep's onset − the beep's start.
 * The way back: every 2 s the server puts a 200 ms beep into each session's answer audio (as
 * a response.output_audio.delta event, which the answer voice sends as Opus RTP) and the page
 * notes when it hears the onset on the voice track it receives as the web app does:
 *   answer latency = onset heard in the page − the beep handed to the session's events.
 * CPU over a steady window: mediasoup workers, ffmpeg decoders and this Node process (which
 * also runs the session's VAD and ASR, and encodes the answer voice), per session; Chromium
 * is not counted.
 * Video 1 fps into the session (vision on, keyframe facts off: ingest, not OCR), audio Opus.
 *
 *   node --import tsx benchmarks/webrtc-ingest/index.ts [--sessions 1,4] [--seconds 20] [--voice on|off|on,off]
 *
 * Prints one JSON document, then a table, to stdout; progress to stderr.
 */
import { build } from 'esbuild';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { loadConfig } from '../../server/config.ts';
import { createEngines } from '../../server/engines.ts';
import { OmniLiveServer } from '../../server/http/server.ts';
import type { Session } from '../../server/session/session.ts';
import { pcm16ToBase64 } from '../../server/audio/pcm.ts';
import { childProcesses, listProcesses, procStat } from '../../test/helpers/proc.ts';
import { describeMachine, loadNow } from '../../server/eval/machine.ts';
import { readStamp } from './stamp.ts';
import { quantile } from '../../server/eval/stats.ts';

const { values: args } = parseArgs({
  options: {
    sessions: { type: 'string', default: '1,4' },
    seconds: { type: 'string', default: '20' },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
    voice: { type: 'string', default: 'on' },
  },
});
/** With the answer voice track received (as the app does), without, or both side by side. */
const VOICE = args.voice.split(',').map((v) => v === 'on');
const LEVELS = args.sessions.split(',').map(Number);
const SECONDS = Number(args.seconds);
if (LEVELS.some((n) => !Number.isInteger(n) || n < 1) || !(SECONDS >= 5) || !args.voice.split(',').every((v) => v === 'on' || v === 'off')) {
  console.error('usage: --sessions 1,4 (positive integers) --seconds N (at least 5) --voice on|off|on,off');
  process.exit(2);
}
if (!fs.existsSync(args.chromium)) {
  console.error(`Chromium not found at ${args.chromium}: apt-get install -y chromium`);
  process.exit(2);
}

const now = () => performance.timeOrigin + performance.now();
const log = (msg: string) => process.stderr.write(`[webrtc-ingest] ${msg}\n`);

// ---- observing the sessions ----

interface Probe {
  videoMs: number[];
  onsets: number[];
  frames: number;
  audioMs: number;
}
const probes = new Map<Session, Probe>();

function observe(session: Session): void {
  const probe: Probe = { videoMs: [], onsets: [], frames: 0, audioMs: 0 };
  probes.set(session, probe);
  const appendVideoFrame = session.appendVideoFrame.bind(session);
  session.appendVideoFrame = (frame) => {
    const at = now();
    const stamp = readStamp(frame.data, frame.width, frame.height, at);
    probe.frames++;
    if (stamp !== undefined) probe.videoMs.push(at - stamp);
    appendVideoFrame(frame);
  };
  const appendAudio = session.appendAudio.bind(session);
  let loud = false;
  session.appendAudio = (pcm) => {
    const at = now();
    // 10 ms blocks at 16 kHz: an onset is the first loud block after a quiet one.
    for (let i = 0; i + 160 <= pcm.length; i += 160) {
      let sum = 0;
      for (let j = i; j < i + 160; j++) sum += pcm[j]! * pcm[j]!;
      const rms = Math.sqrt(sum / 160) / 32768;
      if (rms > 0.05 && !loud) probe.onsets.push(at);
      if (rms > 0.05) loud = true;
      else if (rms < 0.01) loud = false;
    }
    probe.audioMs += (pcm.length / session.settings.inputRate) * 1000;
    appendAudio(pcm);
  };
}

/** 200 ms of 1 kHz at half scale, at the session's answer rate (24 kHz). */
const ANSWER_BEEP = pcm16ToBase64(Int16Array.from({ length: 4800 }, (_, i) => Math.round(16000 * Math.sin((2 * Math.PI * 1000 * i) / 24000))));

/** Every 2 s, a beep into each session's answer audio; returns the send times and a stop. */
function beepAnswers(sessions: Session[]): { sent: number[]; stop: () => void } {
  const sent: number[] = [];
  const timer = setInterval(() => {
    sent.push(now());
    for (const session of sessions) {
      session.emit('event', { type: 'response.output_audio.delta', event_id: 'bench', response_id: 'bench', item_id: 'bench', output_index: 0, content_index: 0, delta: ANSWER_BEEP });
    }
  }, 2000);
  return { sent, stop: () => clearInterval(timer) };
}

/** Each onset's latency: from the latest beep scheduled before it (within 1.5 s). */
function audioLatencies(onsets: number[], beeps: number[]): number[] {
  return onsets.flatMap((at) => {
    const before = beeps.filter((b) => b <= at && at - b < 1500);
    return before.length ? [at - Math.max(...before)] : [];
  });
}

// ---- CPU ----

function cpuSnapshot(workerPids: number[]) {
  return {
    at: performance.now(),
    node: process.cpuUsage(),
    workersMs: workerPids.reduce((n, pid) => n + (procStat(pid)?.cpuMs ?? 0), 0),
    ffmpegMs: new Map(childProcesses('ffmpeg').map((p) => [p.pid, p.cpuMs])),
    // The browsers share these 2 cores with the server: their load is reported, not counted.
    browserMs: new Map(listProcesses().filter((p) => /^(chromium|chrome)/.test(p.comm)).map((p) => [p.pid, p.cpuMs])),
  };
}

// ---- a run ----

const r1 = (x: number) => Math.round(x * 10) / 10;

async function runLevel(browser: Browser, server: OmniLiveServer, url: string, bundle: string, sessions: number, voice: boolean) {
  probes.clear();
  const pages = [];
  for (let i = 0; i < sessions; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.on('pageerror', (e) => log(`page error: ${e.message}`));
    // A page on the server's origin: 127.0.0.1 is a secure context (mediasoup-client reads navigator.userAgentData).
    await page.goto(url.replace(/^ws/, 'http').replace('/v1/realtime', '/healthz'));
    await page.setContent('<!doctype html><title>webrtc-ingest</title><body></body>');
    await page.addScriptTag({ content: bundle });
    await page.evaluate(`window.startBench(${JSON.stringify(url)}, ${voice})`);
    pages.push({ context, page });
  }
  log(`${sessions} session(s) connected; warming up 3 s`);
  await new Promise((r) => setTimeout(r, 3000));
  for (const p of probes.values()) {
    p.videoMs.length = 0;
    p.onsets.length = 0;
  }
  const workerPids = server.media!.workers.map((w) => w.pid);
  const before = cpuSnapshot(workerPids);
  const windowStart = now();
  await new Promise((r) => setTimeout(r, 1000)); // answer beeps fall between the microphone's
  const answers = beepAnswers(voice ? [...probes.keys()] : []);
  await new Promise((r) => setTimeout(r, SECONDS * 1000 - 1000));
  answers.stop();
  const after = cpuSnapshot(workerPids);
  const beeps = (await Promise.all(pages.map(({ page }) => page.evaluate('window.bench.beeps') as Promise<number[]>))).flat();
  const heard = await Promise.all(pages.map(({ page }) => page.evaluate('window.bench.heard') as Promise<number[]>));
  const answer = heard.flatMap((onsets) => audioLatencies(onsets, answers.sent));
  for (const { page, context } of pages) {
    await page.evaluate('window.bench.stop()').catch(() => {});
    await context.close();
  }

  const wallS = (after.at - before.at) / 1000;
  const nodeS = (after.node.user - before.node.user + after.node.system - before.node.system) / 1e6;
  const workersS = (after.workersMs - before.workersMs) / 1000;
  let ffmpegS = 0;
  for (const [pid, ms] of after.ffmpegMs) ffmpegS += (ms - (before.ffmpegMs.get(pid) ?? ms)) / 1000;
  let browserS = 0;
  for (const [pid, ms] of after.browserMs) browserS += (ms - (before.browserMs.get(pid) ?? ms)) / 1000;
  const video = [...probes.values()].flatMap((p) => p.videoMs);
  const audio = [...probes.values()].flatMap((p) => audioLatencies(p.onsets, beeps.filter((b) => b >= windowStart - 1500)));
  const pct = (s: number) => r1((100 * s) / wallS / sessions);
  return {
    sessions,
    voice,
    seconds: r1(wallS),
    video_latency_ms: { samples: video.length, median: r1(quantile(video, 0.5)), p95: r1(quantile(video, 0.95)) },
    audio_latency_ms: { samples: audio.length, median: r1(quantile(audio, 0.5)), p95: r1(quantile(audio, 0.95)) },
    answer_voice_latency_ms: { samples: answer.length, expected: voice ? answers.sent.length * sessions : 0, median: r1(quantile(answer, 0.5)), p95: r1(quantile(answer, 0.95)) },
    cpu_percent_of_one_core_per_session: {
      mediasoup: pct(workersS),
      ffmpeg: pct(ffmpegS),
      ingest: pct(workersS + ffmpegS),
      node_including_vad_asr: pct(nodeS),
      total: pct(workersS + ffmpegS + nodeS),
      browser_not_counted: pct(browserS),
    },
    frames_per_session: r1([...probes.values()].reduce((n, p) => n + p.frames, 0) / sessions),
  };
}

async function main() {
  const loadAtStart = loadNow();
  const bundle = (
    await build({ entryPoints: [path.join(import.meta.dirname, 'page.mjs')], bundle: true, write: false, format: 'iife', platform: 'browser', target: 'chrome120', logLevel: 'error' })
  ).outputFiles[0]!.text;

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-bench-'));
  const config = loadConfig(
    { host: '127.0.0.1', port: '0', dataDir, 'tls.mode': 'off', 'memory.enabled': 'off', 'vision.enabled': 'on', 'vision.facts': '', 'webrtc.enabled': 'on' },
    {},
  );
  const engines = await createEngines(config);
  const server = new OmniLiveServer(config, engines);
  server.on('sessionopen', observe);
  const { port } = await server.listen();
  if (!server.media) throw new Error(`WebRTC is unavailable: ${server.webrtcUnavailable}`);
  const url = `ws://127.0.0.1:${port}/v1/realtime`;
  const browser = await chromium.launch({
    executablePath: args.chromium,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
  });
  const results = [];
  try {
    for (const n of LEVELS) {
      for (const voice of VOICE) {
        log(`${n} session(s), ${SECONDS} s, answer voice ${voice ? 'on' : 'off'}`);
        results.push(await runLevel(browser, server, url, bundle, n, voice));
      }
    }
  } finally {
    await browser.close();
    await server.close();
    await engines.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }

  const report = { benchmark: 'webrtc-ingest', machine: describeMachine(loadAtStart), video_fps: config.vision.fps, results };
  console.log(JSON.stringify(report, null, 2));
  console.log('\n| sessions | voice | video glass→session median / p95 ms | audio median / p95 ms | answer voice session→page median / p95 ms | CPU % per session: mediasoup | ffmpeg | node (VAD, ASR, voice) | (Chromium) |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  const cell = (l: { median: number; p95: number; samples: number }) => `${l.median} / ${l.p95} (${l.samples})`;
  for (const r of results) {
    const c = r.cpu_percent_of_one_core_per_session;
    console.log(`| ${r.sessions} | ${r.voice ? 'on' : 'off'} | ${cell(r.video_latency_ms)} | ${cell(r.audio_latency_ms)} | ${cell(r.answer_voice_latency_ms)} | ${c.mediasoup} | ${c.ffmpeg} | ${c.node_including_vad_asr} | (${c.browser_not_counted}) |`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
