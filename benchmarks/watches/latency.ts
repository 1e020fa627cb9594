/**
 * Watch latency on the live clock: a loopback server on the default engines (vision on), one
 * client that streams a microphone (20 ms chunks at 24 kHz, in real time) and a camera (JPEG
 * frames at --fps), and two `every` watches: "the screen shows EXIT" and "an alarm goes off".
 * Each trial puts the evidence on screen or in the audio and times, from the moment the client
 * sent it: the `omnilive.watch.fired` event, and the first audio of the unasked answer.
 *
 *   npm run bench:watch-latency -- [--trials 6] [--fps 2]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { pcm16ToBase64 } from '../../server/audio/pcm.ts';
import { FFMPEG_PATH } from '../../server/ingest/decode.ts';
import { startServer } from '../../test/helpers/server.ts';
import { Client, type Event, progress, round1 } from '../turn-latency/client.ts';
import { summarize } from '../turn-latency/report.ts';

const { values: args } = parseArgs({ options: { trials: { type: 'string', default: '6' }, fps: { type: 'string', default: '2' } } });
const TRIALS = Number(args.trials);
const FPS = Number(args.fps);
const RATE = 24000;
const CHUNK_MS = 20;
const DEJAVU = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
const FONT = fs.existsSync(DEJAVU) ? `fontfile=${DEJAVU}:` : '';

function jpeg(text?: string): string {
  const vf = text ? ['-vf', `drawtext=${FONT}text=${text}:fontsize=110:fontcolor=black:x=(w-tw)/2:y=(h-th)/2`] : [];
  const r = spawnSync(FFMPEG_PATH, ['-loglevel', 'error', '-f', 'lavfi', '-i', 'color=c=white:s=640x360', ...vf, '-frames:v', '1', '-f', 'image2pipe', '-vcodec', 'mjpeg', '-']);
  if (r.status !== 0) throw new Error(`ffmpeg: ${r.stderr}`);
  return r.stdout.toString('base64');
}

/** 20 ms of a smoke alarm's 3.1 kHz beeping (250 ms on, 250 ms off), from `fromMs` into it, or silence. */
function chunk(alarmFromMs: number | undefined): Int16Array {
  const n = (RATE * CHUNK_MS) / 1000;
  const out = new Int16Array(n);
  if (alarmFromMs === undefined) return out;
  for (let i = 0; i < n; i++) {
    const t = alarmFromMs / 1000 + i / RATE;
    if (t % 0.5 < 0.25) out[i] = Math.round(0.4 * 32767 * Math.sin(2 * Math.PI * 3100 * t));
  }
  return out;
}

interface Trial {
  kind: 'text' | 'sound';
  watchId: string;
  /** Wall time the client sent the first frame or chunk of the evidence. */
  sentAt?: number;
  firedMs?: number;
  firstAudioMs?: number;
}

async function main(): Promise<void> {
  const server = await startServer({ 'vision.enabled': 'on', 'tls.mode': 'off' });
  const { client } = await Client.connect(`ws://127.0.0.1:${server.port}/v1/realtime`);
  client.send({ type: 'session.update', session: { type: 'realtime', omnilive: { video_fps: FPS } } });
  await client.log.waitFor('session.updated');
  const watch = async (condition: string) => {
    const mark = client.seq;
    client.send({ type: 'omnilive.watch.create', condition, mode: 'every', cooldown_ms: 6000 }); // one firing a trial: the alarm lasts 2.5 s, trials are 10 s apart
    return (await client.next('omnilive.watch.created', mark)).watch.id as string;
  };
  const textWatch = await watch('the screen shows EXIT');
  const soundWatch = await watch('an alarm goes off');
  const frames = { blank: jpeg(), exit: jpeg('EXIT') };

  // A 10 s trial: evidence from 3 s to 7 s (the text), or 3 s to 5.5 s (the alarm).
  const trials: Trial[] = Array.from({ length: TRIALS * 2 }, (_, i) => ({ kind: i % 2 ? 'sound' : 'text', watchId: i % 2 ? soundWatch : textWatch }));
  const start = performance.now();
  let sentMs = 0;
  let nextFrameMs = 0;
  const TRIAL_MS = 10_000;
  progress(`watch latency: ${trials.length} trials of 10 s, ${FPS} fps`);
  while (sentMs < trials.length * TRIAL_MS) {
    const trial = trials[Math.floor(sentMs / TRIAL_MS)]!;
    const into = sentMs % TRIAL_MS;
    const alarmOn = trial.kind === 'sound' && into >= 3000 && into < 5500;
    const textOn = trial.kind === 'text' && into >= 3000 && into < 7000;
    client.send({ type: 'input_audio_buffer.append', audio: pcm16ToBase64(chunk(alarmOn ? into - 3000 : undefined)) });
    if (alarmOn && trial.sentAt === undefined) trial.sentAt = performance.now();
    if (sentMs >= nextFrameMs) {
      client.send({ type: 'omnilive.video_frame.append', image: textOn ? frames.exit : frames.blank });
      if (textOn && trial.sentAt === undefined) trial.sentAt = performance.now();
      nextFrameMs += 1000 / FPS;
    }
    sentMs += CHUNK_MS;
    if (into === 0 && sentMs > CHUNK_MS) progress(`  trial ${Math.floor(sentMs / TRIAL_MS)}/${trials.length}`);
    const wait = start + sentMs - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await new Promise((r) => setTimeout(r, 3000));

  const events = client.events;
  for (const trial of trials) {
    if (trial.sentAt === undefined) continue;
    const fired = events.find((e) => e.type === 'omnilive.watch.fired' && e.watch_id === trial.watchId && e.recvAt >= trial.sentAt!);
    if (!fired || fired.recvAt - trial.sentAt > TRIAL_MS) continue;
    trial.firedMs = fired.recvAt - trial.sentAt;
    const created = events.find((e: Event) => e.type === 'response.created' && e.seq > fired.seq && e.response?.metadata?.watch_id === trial.watchId);
    const audio = created && events.find((e) => e.type === 'response.output_audio.delta' && e.response_id === created.response.id);
    if (audio) trial.firstAudioMs = audio.recvAt - trial.sentAt;
  }
  client.ws.close();
  await server.close();

  const report = Object.fromEntries(
    (['text', 'sound'] as const).map((kind) => {
      const of = trials.filter((t) => t.kind === kind);
      return [kind, { trials: of.length, fired: of.filter((t) => t.firedMs !== undefined).length, evidence_to_fired_ms: summarize(of.map((t) => t.firedMs)), evidence_to_first_audio_ms: summarize(of.map((t) => t.firstAudioMs)), detail: of.map((t) => ({ fired_ms: t.firedMs && round1(t.firedMs), first_audio_ms: t.firstAudioMs && round1(t.firstAudioMs) })) }];
    }),
  );
  console.log(JSON.stringify({ benchmark: 'watch-latency', fps: FPS, trials: TRIALS, ...report }, null, 2));
  console.log('\n| evidence | fired | → watch.fired p50 / p95 | → first proactive audio p50 / p95 |\n|---|---|---|---|');
  for (const [kind, r] of Object.entries(report)) {
    console.log(`| ${kind === 'text' ? 'text on screen' : 'alarm in audio'} | ${r.fired}/${r.trials} | ${r.evidence_to_fired_ms.median} / ${r.evidence_to_fired_ms.p95} ms | ${r.evidence_to_first_audio_ms.median} / ${r.evidence_to_first_audio_ms.p95} ms |`);
  }
}

await main();
