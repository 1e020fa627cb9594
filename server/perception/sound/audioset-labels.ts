/**
 * The class names of an audio-tagging model, read from the labels file beside it, and how
 * AudioSet's display names map onto OmniLive's sound labels.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UnsupportedError } from '../../errors.ts';
import type { SoundLabel } from './types.ts';

/** Where a model's labels may be, in order: `<name>.labels.txt` beside `<name>.onnx`, then the AudioSet/YAMNet names. */
export function labelsFileCandidates(modelFile: string): string[] {
  const dir = path.dirname(modelFile);
  const stem = path.basename(modelFile).replace(/\.onnx$/i, '');
  return [`${stem}.labels.txt`, 'labels.txt', 'class_labels_indices.csv', 'yamnet_class_map.csv'].map((name) => path.join(dir, name));
}

/** The labels file of `modelFile`; an UnsupportedError naming every place looked at when there is none. */
export function findLabelsFile(modelFile: string): string {
  const candidates = labelsFileCandidates(modelFile);
  const found = candidates.find((file) => fs.statSync(file, { throwIfNoEntry: false })?.isFile());
  if (!found) {
    throw new UnsupportedError(`sound model ${modelFile} has no labels file: put one display name per class in ${candidates.map((c) => path.basename(c)).join(' or ')} beside it`);
  }
  return found;
}

/** Splits one CSV line, honouring double quotes ("Smoke detector, smoke alarm"). */
function csvFields(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') fields.push(field), (field = '');
    else field += c;
  }
  fields.push(field);
  return fields.map((f) => f.trim());
}

/**
 * Display names, one per class in class order. Either one name per line, or AudioSet's CSV
 * (`index,mid,display_name`, header optional; YAMNet's class map is the same).
 */
export function readLabels(file: string): string[] {
  const lines = fs
    .readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  let column = -1; // the display-name column, for CSV
  if (lines.length > 0 && /^index\s*,/i.test(lines[0]!)) {
    column = csvFields(lines.shift()!).findIndex((h) => h.toLowerCase() === 'display_name');
    if (column < 0) throw new UnsupportedError(`labels file ${file}: its header has no display_name column`);
  } else if (lines.length > 0 && /^\d+\s*,\s*\/[mgt]\//.test(lines[0]!)) {
    column = 2; // index,mid,display_name without a header
  }
  const names = column < 0 ? lines : lines.map((l) => csvFields(l)[column] ?? '');
  const empty = names.findIndex((n) => n === '');
  if (empty >= 0) throw new UnsupportedError(`labels file ${file}: class ${empty} has no display name`);
  if (names.length === 0) throw new UnsupportedError(`labels file ${file} names no classes`);
  return names;
}

const norm = (name: string) => name.trim().toLowerCase();

const GROUPS: Record<SoundLabel, string[]> = {
  alarm: ['alarm', 'smoke detector, smoke alarm', 'fire alarm', 'beep, bleep', 'buzzer', 'alarm clock', 'car alarm'],
  siren: ['siren', 'police car (siren)', 'ambulance (siren)', 'fire engine, fire truck (siren)', 'civil defense siren'],
  knock: ['knock', 'bang', 'door', 'slam', 'thump, thud'],
  music: [
    'music',
    'musical instrument',
    'song',
    'plucked string instrument',
    'guitar',
    'electric guitar',
    'acoustic guitar',
    'bass guitar',
    'keyboard (musical)',
    'piano',
    'electric piano',
    'organ',
    'synthesizer',
    'drum kit',
    'drum',
    'drum machine',
    'percussion',
    'orchestra',
    'bowed string instrument',
    'violin, fiddle',
    'cello',
    'brass instrument',
    'trumpet',
    'wind instrument, woodwind instrument',
    'flute',
    'saxophone',
    'choir',
    'harmonica',
    'accordion',
  ],
  speech: ['speech', 'male speech, man speaking', 'female speech, woman speaking', 'child speech, kid speaking', 'conversation', 'narration, monologue'],
};
const GROUP_OF = new Map<string, SoundLabel>(Object.entries(GROUPS).flatMap(([label, names]) => names.map((n) => [n, label as SoundLabel] as const)));

/** Labels never reported: the absence of sound is not an event. */
const IGNORED = new Set(['silence']);

/**
 * What an AudioSet display name is reported as: one of SOUND_LABELS when it is one of its
 * classes (AudioSet's music genres, "… music", count as music), otherwise the name in lower
 * case; undefined for a class never reported (silence).
 */
export function soundLabelOf(displayName: string): string | undefined {
  const name = norm(displayName);
  if (IGNORED.has(name)) return undefined;
  return GROUP_OF.get(name) ?? (name.endsWith(' music') ? 'music' : name);
}
