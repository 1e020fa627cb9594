/**
 * What a keyframe's scene facts add to the option scorer's evidence: words to match (colours,
 * kinds of things, places, poses and expressions, light), counts by kind, and for questions
 * about a colour or a place a score per option read off the shares the facts hold, in the
 * moment the question names.
 */
import type { ClipScene } from '../../../memory/types.ts';
import { colourFor, labelsFor, positionFor } from '../../reasoning/vocabulary.ts';

/** Words a person would use for a facial expression (the first is the model's own label). */
const EXPRESSION_WORDS: Record<string, string> = {
  happy: 'happy smiling smile', sad: 'sad', angry: 'angry', surprise: 'surprised surprise', fear: 'afraid scared fear',
  disgust: 'disgusted disgust', neutral: 'neutral', contempt: 'contempt',
};
const FACING_WORDS: Record<string, string> = { camera: 'facing camera', away: 'facing away', side: 'facing side' };
const PLACE_WORDS: Record<string, string> = { left: 'left', right: 'right', centre: 'centre middle center' };

/**
 * The scene as words for matching: every frame colour, each object's kind, colours and places,
 * each person's place, pose, gestures and expression, the light and motion.
 */
export function sceneWords(scene: ClipScene | undefined): string {
  if (!scene) return '';
  const words: string[] = scene.colours.map((c) => c.name);
  if (scene.brightness) words.push(scene.brightness);
  if (scene.motion) words.push(scene.motion === 'moving' ? 'moving motion' : 'still');
  for (const o of scene.objects) {
    words.push(o.label);
    if (o.supercategory && o.supercategory !== o.label) words.push(o.supercategory);
    for (const c of new Set(o.colours ?? [])) if (c) words.push(c);
    for (const p of new Set(o.positions ?? [])) words.push(PLACE_WORDS[p] ?? p);
  }
  for (const p of scene.people) {
    words.push('person', PLACE_WORDS[p.position] ?? p.position, p.distance);
    if (p.facing) words.push(FACING_WORDS[p.facing] ?? p.facing);
    if (p.posture) words.push(p.posture);
    if (p.handRaised) words.push('hand raised');
    words.push(...p.gestures);
    if (p.emotion) words.push(EXPRESSION_WORDS[p.emotion] ?? p.emotion);
  }
  return words.join('\n');
}

/** Counts by label and by kind ("animal": cats and dogs together); people as many as either fact saw. */
export function sceneCounts(scene: ClipScene): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of scene.objects) {
    counts[o.label] = (counts[o.label] ?? 0) + o.count;
    if (o.supercategory && o.supercategory !== o.label) counts[o.supercategory] = (counts[o.supercategory] ?? 0) + o.count;
  }
  if (scene.people.length > (counts.person ?? 0)) counts.person = scene.people.length;
  return counts;
}

/** Words that name the whole frame rather than a thing in it. */
const FRAME_WORDS = new Set(['screen', 'background', 'scene', 'frame', 'picture', 'image', 'video', 'view', 'display', 'backdrop', 'wall']);

/** What a question names among the detector's labels ("the car", "the animal"), frame words aside. */
export function labelsNamed(words: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (FRAME_WORDS.has(w) || colourFor(w)) continue;
    const pair = i + 1 < words.length ? labelsFor(`${w} ${words[i + 1]}`) : [];
    for (const l of pair.length ? pair : labelsFor(w)) out.add(l);
  }
  return out;
}

/** A piece of evidence as the attribute scores read it. */
export interface SceneDoc {
  startMs: number;
  endMs: number;
  scene?: ClipScene;
}

export type Attribute = 'colour' | 'position';

const COLOUR_QUESTION = /\bcolou?rs?\b|\bwearing\b/i;
const POSITION_QUESTION = /\bwhere\b|\bwhich side\b|\bposition\b|\bwhich part\b/i;

/** The palette colours or frame places an option names ("Navy blue." → blue). */
export function optionValues(attribute: Attribute, words: readonly string[]): string[] {
  const read = attribute === 'colour' ? colourFor : positionFor;
  return [...new Set(words.map((w) => read(w)).filter((v): v is NonNullable<typeof v> => v !== undefined))];
}

/** Shares of each value (colour or place) in one scene: of the frame, or of the boxes of the named things. */
function sharesIn(scene: ClipScene, attribute: Attribute, labels: Set<string>): Map<string, number> | undefined {
  const shares = new Map<string, number>();
  if (labels.size === 0) {
    if (attribute !== 'colour' || scene.colours.length === 0) return undefined;
    for (const c of scene.colours) shares.set(c.name, c.share);
    return shares;
  }
  const values = scene.objects.filter((o) => labels.has(o.label)).flatMap((o) => (attribute === 'colour' ? o.colours : o.positions) ?? []).filter(Boolean);
  if (values.length === 0) return undefined;
  for (const v of values) shares.set(v, (shares.get(v) ?? 0) + 1 / values.length);
  return shares;
}

/**
 * For a question about a colour or a place whose options name colours or places: each option's
 * share of that colour (place) in the frame, or among the boxes of the things the question
 * names, at the moment it asks about — the first scene for "at the beginning", the latest for
 * "now" or "last", the nearest to `anchors` for "when …", else the scene where it was largest.
 * Undefined when the question is not of that kind or no scene holds the facts.
 */
export function attributeScores(
  question: { words: readonly string[]; text: string; moment?: 'first' | 'late' | 'anchored' },
  options: readonly (readonly string[])[],
  docs: readonly SceneDoc[],
  anchors: readonly SceneDoc[] = [],
): number[] | undefined {
  const attribute: Attribute | undefined = COLOUR_QUESTION.test(question.text) ? 'colour' : POSITION_QUESTION.test(question.text) ? 'position' : undefined;
  if (!attribute) return undefined;
  const wanted = options.map((words) => optionValues(attribute, words));
  if (wanted.filter((v) => v.length > 0).length < 2) return undefined;
  const labels = labelsNamed(question.words);
  const seen = docs
    .map((d) => ({ doc: d, shares: d.scene && sharesIn(d.scene, attribute, labels) }))
    .filter((x): x is { doc: SceneDoc; shares: Map<string, number> } => x.shares !== undefined);
  if (seen.length === 0) return undefined;
  let chosen = seen;
  if (question.moment === 'first') {
    const first = Math.min(...seen.map((x) => x.doc.startMs));
    chosen = seen.filter((x) => x.doc.startMs === first);
  } else if (question.moment === 'late') {
    const last = Math.max(...seen.map((x) => x.doc.endMs));
    chosen = seen.filter((x) => x.doc.endMs === last);
  } else if (question.moment === 'anchored' && anchors.length) {
    const gap = (d: SceneDoc) => Math.min(...anchors.map((a) => Math.max(0, a.startMs - d.endMs, d.startMs - a.endMs)));
    const nearest = Math.min(...seen.map((x) => gap(x.doc)));
    chosen = seen.filter((x) => gap(x.doc) === nearest);
  }
  // An option naming several values ("red and white") is as supported as their mean share.
  return wanted.map((values) => (values.length ? Math.max(...chosen.map((x) => values.reduce((sum, v) => sum + (x.shares.get(v) ?? 0), 0) / values.length)) : 0));
}
