/**
 * The sound-event benchmark's labelled set, generated from one seed: each clip is a sound
 * between stretches of room tone (or of louder noise), with the spans of each label in it.
 */
import type { SoundLabel } from '../../server/perception/sound/types.ts';
import { seededRandom } from '../seeded-random.ts';
import { speak } from '../../test/helpers/speech.ts';
import { activeRms, alarm, ALARM_RHYTHMS, knocks, music, MUSIC_KINDS, noise, NOISE_COLOURS, pick, RATE, siren, type NoiseColour, type Random, type Sound, type Timbre, uniform } from './synth.ts';

export interface Truth {
  label: SoundLabel;
  startMs: number;
  endMs: number;
}

export interface Clip {
  name: string;
  /** The family the clip belongs to in the report: alarm, siren, knock, music, speech, noise, alarm+noise, … */
  group: string;
  pcm: Int16Array;
  truth: Truth[];
}

const SENTENCES = [
  'Could you please turn off the kitchen light before we leave?',
  'The meeting has been moved to Thursday afternoon at three.',
  'I think I left my keys somewhere near the front door.',
  'What time does the train to Edinburgh leave tomorrow morning?',
  'Remind me to call my sister when I get home tonight.',
  'The soup needs another ten minutes on a low heat.',
  'We should water the plants in the garden this evening.',
  'Have you seen the blue folder with the tax papers in it?',
  'My daughter starts at her new school next week.',
  'Please read me the last message again, a little slower.',
  'It has been raining all day and the roads are flooded.',
  'Can you tell me how far it is to the nearest pharmacy?',
  'The dog keeps barking at the postman every single morning.',
  'Let us order pizza tonight, I am far too tired to cook.',
  'Hello, yes, I can hear you, go ahead.',
  'Seven, eight, nine, ten, that makes ten boxes in total.',
];

const ms = (n: number) => Math.round((n * RATE) / 1000);
const dbToGain = (db: number) => 10 ** (db / 20);

/** Flite's child process restarts after a crash (a loaded machine): try again rather than lose the run. */
async function speakRetrying(text: string, voice: 'awb' | 'slt'): Promise<Int16Array> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await speak(text, { voice });
    } catch (error) {
      if (attempt >= 3) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1500));
    }
  }
}

/** Speech from Flite as a Sound: its span is where the voice is (10 ms blocks within 40 dB of the loudest). */
async function speech(random: Random, voice: 'awb' | 'slt', sentences: number): Promise<Sound> {
  const texts = Array.from({ length: sentences }, () => pick(random, SENTENCES));
  const pcm = await speakRetrying(texts.join(' '), voice);
  const samples = Float32Array.from(pcm, (v) => v / 32768);
  const block = ms(10);
  const powers: number[] = [];
  for (let from = 0; from + block <= samples.length; from += block) powers.push(samples.subarray(from, from + block).reduce((s, v) => s + v * v, 0) / block);
  const loud = Math.max(...powers) / 1e4;
  const first = powers.findIndex((p) => p >= loud);
  const last = powers.length - 1 - [...powers].reverse().findIndex((p) => p >= loud);
  return { samples, spans: [{ startMs: first * 10, endMs: (last + 1) * 10 }] };
}

interface Layer {
  sound: Sound;
  label: SoundLabel;
  /** Where it starts in the clip, ms from the end of the lead-in. */
  atMs?: number;
  /** Its active level, dB of full scale. */
  levelDb: number;
}

/** A clip: `leadMs` of background, the layers, a tail; background noise under all of it. */
function clip(random: Random, name: string, group: string, layers: Layer[], background?: { colour: NoiseColour; levelDb: number }): Clip {
  const leadMs = uniform(random, 800, 2000);
  const bodyMs = Math.max(4000 * Number(layers.length === 0), ...layers.map((l) => (l.atMs ?? 0) + (l.sound.samples.length * 1000) / RATE));
  const endMs = leadMs + bodyMs + uniform(random, 1200, 2000);
  const out = new Float32Array(ms(endMs));
  // Room tone everywhere: a real microphone never delivers digital silence.
  const room = noise(random, 'pink', endMs);
  for (let i = 0; i < out.length; i++) out[i] = room[i]! * dbToGain(-68);
  if (background) {
    const bed = noise(random, background.colour, endMs);
    for (let i = 0; i < out.length; i++) out[i]! += bed[i]! * dbToGain(background.levelDb);
  }
  const truth: Truth[] = [];
  for (const layer of layers) {
    const from = ms(leadMs + (layer.atMs ?? 0));
    const gain = dbToGain(layer.levelDb) / activeRms(layer.sound.samples);
    layer.sound.samples.forEach((v, i) => (out[from + i]! += v * gain));
    for (const span of layer.sound.spans) truth.push({ label: layer.label, startMs: Math.round((from * 1000) / RATE + span.startMs), endMs: Math.round((from * 1000) / RATE + span.endMs) });
  }
  const pcm = Int16Array.from(out, (v) => Math.max(-32768, Math.min(32767, Math.round(v * 32768))));
  return { name, group, pcm, truth };
}

/** The whole set for one seed. */
export async function buildSet(seed: number): Promise<Clip[]> {
  const random = seededRandom(seed);
  const level = () => uniform(random, -32, -12);
  const clips: Clip[] = [];
  const alarmOf = () => {
    const hz = pick(random, [520, 1000, 3100, uniform(random, 1200, 4000)]) * uniform(random, 0.97, 1.03);
    const kind = pick(random, ALARM_RHYTHMS);
    const timbre = pick(random, ['sine', 'square', 'piezo'] as Timbre[]);
    return { sound: alarm(random, hz, kind, timbre), what: `${Math.round(hz)}Hz ${kind} ${timbre}` };
  };

  for (const hz of [520, 1000, 3100, 0]) {
    for (const kind of ALARM_RHYTHMS) {
      const f = (hz || uniform(random, 1200, 4000)) * uniform(random, 0.97, 1.03);
      const timbre = pick(random, ['sine', 'square', 'piezo'] as Timbre[]);
      clips.push(clip(random, `alarm ${Math.round(f)}Hz ${kind} ${timbre}`, 'alarm', [{ sound: alarm(random, f, kind, timbre), label: 'alarm', levelDb: level() }]));
    }
  }
  for (const kind of ['wail', 'wail', 'wail', 'yelp', 'yelp', 'yelp'] as const) clips.push(clip(random, `siren ${kind}`, 'siren', [{ sound: siren(random, kind), label: 'siren', levelDb: level() }]));
  for (const kind of ['knocks', 'knocks', 'knocks', 'knocks', 'bang', 'bang'] as const) clips.push(clip(random, kind, 'knock', [{ sound: knocks(random, kind), label: 'knock', levelDb: level() }]));
  for (const kind of [...MUSIC_KINDS, ...MUSIC_KINDS]) clips.push(clip(random, `music ${kind}`, 'music', [{ sound: music(random, kind), label: 'music', levelDb: level() }]));
  for (const voice of ['awb', 'slt', 'awb', 'slt', 'awb', 'slt', 'awb', 'slt', 'awb', 'slt'] as const) {
    clips.push(clip(random, `speech ${voice}`, 'speech', [{ sound: await speech(random, voice, 1 + Math.floor(random() * 2)), label: 'speech', levelDb: level() }]));
  }
  for (const colour of NOISE_COLOURS) {
    for (const db of [-50, -40, -30]) clips.push(clip(random, `${colour} noise ${db} dBFS`, 'noise', [], { colour, levelDb: db }));
  }
  for (const snr of [20, 10, 5]) {
    for (const colour of NOISE_COLOURS) {
      const { sound, what } = alarmOf();
      const db = level();
      clips.push(clip(random, `alarm ${what} + ${colour} noise ${snr} dB`, 'alarm+noise', [{ sound, label: 'alarm', levelDb: db }], { colour, levelDb: db - snr }));
    }
  }
  const noisy = (group: string, label: SoundLabel, sound: Sound, what: string) => {
    const colour = pick(random, NOISE_COLOURS);
    const db = level();
    clips.push(clip(random, `${what} + ${colour} noise 10 dB`, group, [{ sound, label, levelDb: db }], { colour, levelDb: db - 10 }));
  };
  for (let i = 0; i < 2; i++) {
    noisy('siren+noise', 'siren', siren(random, pick(random, ['wail', 'yelp'] as const)), 'siren');
    noisy('knock+noise', 'knock', knocks(random, 'knocks'), 'knocks');
    noisy('music+noise', 'music', music(random, pick(random, MUSIC_KINDS)), 'music');
    noisy('speech+noise', 'speech', await speech(random, pick(random, ['awb', 'slt'] as const), 1), 'speech');
  }
  // Someone talking while an alarm beeps 6 dB under their voice.
  for (const voice of ['awb', 'slt'] as const) {
    const talk = await speech(random, voice, 2);
    const { sound, what } = alarmOf();
    const db = level();
    clips.push(clip(random, `speech ${voice} over alarm ${what}`, 'alarm+speech', [{ sound: talk, label: 'speech', levelDb: db }, { sound, label: 'alarm', atMs: uniform(random, 0, 1000), levelDb: db - 6 }]));
  }
  return clips;
}
