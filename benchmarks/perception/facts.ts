/**
 * Keyframe facts benchmark: what each fact costs on one keyframe, warm, on real photographs
 * of people (Human's samples.jpg, shipped in npm), a generated empty scene and a generated
 * text scene, all 640×480.
 *
 *   ocr               PP-OCRv4 (onnxruntime) in this process
 *   objects           CenterNet round trip to its own child process (tfjs wasm)
 *   describe_objects  supercategories, positions, colours and sizes of the detected boxes
 *   scene             frame colours + brightness
 *   motion            against the previous keyframe (another frame of the set)
 *   people            HumanPeopleReader.describe on CenterNet's person boxes (its own child);
 *                     on a frame without a person it gets no box, as the reader is used
 *   read_in_process   EngineFactsReader.read with those same engines, everything above but motion
 *   read_via_host     FactsHost.read: the facts child process the server runs (server defaults)
 *
 * Runs interleave frames and facts, so every figure of one run saw the same machine load.
 * Prints one JSON document, then a table, to stdout; progress to stderr.
 *
 *   node --import tsx benchmarks/perception/facts.ts [--runs N] [--warmup N]
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { positiveInteger } from '../args.ts';
import sharp from 'sharp';
import { loadConfig } from '../../server/config.ts';
import { describeMachine, loadNow } from '../../server/eval/machine.ts';
import { quantile } from '../../server/eval/stats.ts';
import { CenterNetDetector } from '../../server/perception/objects/index.ts';
import { PpOcrEngine } from '../../server/perception/ocr/index.ts';
import { HumanPeopleReader } from '../../server/perception/people/index.ts';
import { FactsHost } from '../../server/perception/video/facts-host.ts';
import { countObjects, EngineFactsReader, type FrameFacts } from '../../server/perception/video/facts.ts';
import { decodeImage } from '../../server/perception/video/pipeline.ts';
import { describeObjects, motion, sceneFacts } from '../../server/perception/video/scene-facts.ts';
import type { DetectedObject, RgbImage } from '../../server/perception/video/types.ts';
import { listProcesses } from '../../test/helpers/proc.ts';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '12' }, warmup: { type: 'string', default: '2' } } });
const RUNS = positiveInteger('runs', args.runs);
const WARMUP = positiveInteger('warmup', args.warmup);

const T0 = performance.now();
const log = (message: string) => process.stderr.write(`[facts ${((performance.now() - T0) / 1000).toFixed(1).padStart(6)} s] ${message}\n`);
const r3 = (x: number) => (Number.isFinite(x) ? Math.round(x * 1000) / 1000 : null);
const r1 = (x: number) => (Number.isFinite(x) ? Math.round(x * 10) / 10 : null);
const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

// ---- frames ----

const FRAME = { width: 640, height: 480 };
const require = createRequire(import.meta.url);
const SAMPLES = path.resolve(path.dirname(require.resolve('@vladmandic/human')), '..', 'assets', 'samples.jpg');

interface Frame {
  name: string;
  what: string;
  image: RgbImage;
}

/** A region of samples.jpg (1280×1158: a strip of thumbnails over a party photo), fitted into 640×480 as stills are. */
async function photo(name: string, what: string, region: { left: number; top: number; width: number; height: number }): Promise<Frame> {
  const png = await sharp(SAMPLES).extract(region).png().toBuffer();
  return { name, what, image: await decodeImage(png, 0, FRAME) };
}

/** A wall: one colour, the cheapest case for every model and what a camera sees most of the time. */
function emptyScene(): Frame {
  const data = new Uint8Array(FRAME.width * FRAME.height * 3);
  for (let i = 0; i < data.length; i += 3) (data[i] = 96), (data[i + 1] = 112), (data[i + 2] = 128);
  return { name: 'empty', what: 'solid blue-grey 640×480, generated', image: { ...FRAME, data } };
}

/** A notice on a light board: four lines of dark text for OCR to detect and read. */
async function textScene(): Promise<Frame> {
  const lines = [
    ['EXIT 12', 56, 'bold'],
    ['Meeting room 204, 3 PM', 36, 'normal'],
    ['Platform 9 - departures', 32, 'normal'],
    ['Please keep this door closed', 28, 'normal'],
  ] as const;
  const text = lines
    .map(([s, size, weight], i) => `<text x="40" y="${110 + i * 100}" font-family="DejaVu Sans" font-size="${size}" font-weight="${weight}" fill="#1a1a1a">${s}</text>`)
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${FRAME.width}" height="${FRAME.height}"><rect width="100%" height="100%" fill="#f2efe6"/>${text}</svg>`;
  const png = await sharp(Buffer.from(svg)).png().toBuffer();
  return { name: 'text', what: 'four lines of text on a light board, generated (SVG, DejaVu Sans)', image: await decodeImage(png, 0, FRAME) };
}

// Colour names come from a table built on first use: that one-off cost is not a per-keyframe one.
const firstColourCall = (() => {
  const image = emptyScene().image;
  const t0 = performance.now();
  sceneFacts(image);
  return performance.now() - t0;
})();

const frames: Frame[] = [
  await photo('person_near', 'samples.jpg: a man at a dinner table, one person near the camera', { left: 326, top: 1, width: 199, height: 157 }),
  await photo('three_people', 'samples.jpg: three women standing, thumbnails of the strip', { left: 545, top: 0, width: 358, height: 160 }),
  await photo('group', 'samples.jpg: the party photo, a dozen people', { left: 0, top: 196, width: 1280, height: 960 }),
  emptyScene(),
  await textScene(),
];

// ---- CPU of this process and everything below it ----

/** CPU ms of this process, all threads (exact). */
function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** CPU ms of every process below this one (/proc, 10 ms ticks: only means over many calls say much). */
function childrenCpuMs(): number {
  const all = listProcesses();
  const below = new Set([process.pid]);
  let ms = 0;
  // /proc lists parents before children almost always; a second pass catches the rest.
  for (let pass = 0; pass < 2; pass++) {
    for (const p of all) if (!below.has(p.pid) && below.has(p.ppid)) below.add(p.pid), (ms += p.cpuMs);
  }
  return ms;
}

/** Busy and total ms of all CPUs of the machine, to tell our load from everybody else's. */
function machineMs(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times } of os.cpus()) {
    const sum = times.user + times.nice + times.sys + times.idle + times.irq;
    total += sum;
    busy += sum - times.idle;
  }
  return { busy, total };
}

// ---- engines ----

const loadAtStart = loadNow();
log('loading OCR (this process), CenterNet and Human (child processes), and the facts host');
const ocr = await PpOcrEngine.load();
const objects = await CenterNetDetector.load();
const people = await HumanPeopleReader.load();
const reader = new EngineFactsReader({ ocr, objects, people });
// The server's default facts, pinned: this shell's environment does not count. No models dir: no embedder.
const modelsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-facts-'));
process.on('exit', () => fs.rmSync(modelsDir, { recursive: true, force: true }));
const { vision } = loadConfig({ 'vision.modelsDir': modelsDir }, {});
const host = await FactsHost.start({ ocr: vision.ocr, objects: vision.objects, people: vision.people });
log(`facts host: ${JSON.stringify(host.names)}`);

// What the detector sees on each frame is fixed: the facts after it get the same input every run.
const detected = new Map<Frame, DetectedObject[]>();
for (const f of frames) detected.set(f, await objects.detect(f.image));
const personBoxes = (f: Frame) => detected.get(f)!.filter((o) => o.label === 'person').map((o) => o.box);

type Fact = 'ocr' | 'objects' | 'describe_objects' | 'scene' | 'motion' | 'people' | 'read_in_process' | 'read_via_host';
const FACTS: Fact[] = ['ocr', 'objects', 'describe_objects', 'scene', 'motion', 'people', 'read_in_process', 'read_via_host'];

const lastFacts = new Map<Frame, { inProcess?: FrameFacts; viaHost?: FrameFacts }>();

async function runFact(fact: Fact, frame: Frame, previous: Frame): Promise<void> {
  const { image } = frame;
  switch (fact) {
    case 'ocr':
      await ocr.recognize(image);
      return;
    case 'objects':
      await objects.detect(image);
      return;
    case 'describe_objects':
      describeObjects(countObjects(detected.get(frame)!), image);
      return;
    case 'scene':
      sceneFacts(image);
      return;
    case 'motion':
      motion(previous.image, image);
      return;
    case 'people':
      await people.describe(image, personBoxes(frame));
      return;
    case 'read_in_process':
      lastFacts.set(frame, { ...lastFacts.get(frame), inProcess: await reader.read(image) });
      return;
    case 'read_via_host':
      lastFacts.set(frame, { ...lastFacts.get(frame), viaHost: await host.read(image) });
      return;
  }
}

// ---- measurement ----

const wall = new Map<string, number[]>();
const cpu = new Map<string, number[]>();
const key = (frame: Frame, fact: Fact) => `${frame.name}/${fact}`;
const record = (map: Map<string, number[]>, k: string, x: number) => (map.get(k) ?? map.set(k, []).get(k)!).push(x);

log(`warm-up: ${WARMUP} pass(es) over ${frames.length} frames × ${FACTS.length} facts`);
for (let w = 0; w < WARMUP; w++) {
  for (const [i, frame] of frames.entries()) for (const fact of FACTS) await runFact(fact, frame, frames.at(i - 1)!);
}

const machineBefore = machineMs();
const ourBefore = ownCpuMs() + childrenCpuMs();
const measureStart = performance.now();
for (let run = 0; run < RUNS; run++) {
  log(`run ${run + 1}/${RUNS}`);
  // Rotate which frame comes first so no frame always follows the same one.
  for (let k = 0; k < frames.length; k++) {
    const i = (k + run) % frames.length;
    const frame = frames[i]!;
    for (const fact of FACTS) {
      // Children read outside our own readings: listing /proc is not charged to the fact.
      const children0 = childrenCpuMs();
      const own0 = ownCpuMs();
      const t0 = performance.now();
      await runFact(fact, frame, frames.at(i - 1)!);
      const ms = performance.now() - t0;
      const own = ownCpuMs() - own0;
      const children = childrenCpuMs() - children0;
      record(wall, key(frame, fact), ms);
      record(cpu, key(frame, fact), own + children);
    }
  }
}
const measureMs = performance.now() - measureStart;
const ourCpuMs = ownCpuMs() + childrenCpuMs() - ourBefore;
const machineAfter = machineMs();
await Promise.all([reader.close(), host.close()]);

// ---- report ----

const stat = (frame: Frame, fact: Fact) => {
  const xs = wall.get(key(frame, fact))!;
  return { p50: r3(quantile(xs, 0.5)), p95: r3(quantile(xs, 0.95)), cpu_mean: r1(mean(cpu.get(key(frame, fact))!)) };
};
const p50 = (frame: Frame, fact: Fact) => quantile(wall.get(key(frame, fact))!, 0.5);

/** What the facts said, to see that each model did its work on each frame. */
function seen(frame: Frame) {
  const facts = lastFacts.get(frame)?.inProcess;
  const host = lastFacts.get(frame)?.viaHost;
  return {
    ocr: facts?.ocr.map((l) => l.text) ?? [],
    objects: facts?.objects.map((o) => `${o.count} ${o.label}${o.colours?.length ? ` (${o.colours.join(', ')})` : ''}`) ?? [],
    person_boxes: personBoxes(frame).length,
    people_described: facts?.people?.filter((p) => p.facing !== undefined || p.posture !== undefined || p.emotion !== undefined).length ?? 0,
    people: (facts?.people ?? []).slice(0, 4).map((p) => [p.position, p.distance, p.facing, p.posture, p.emotion, ...p.gestures].filter(Boolean).join(' ')),
    scene: facts?.scene,
    host_people: host?.people?.length ?? 0,
    skipped: facts?.skipped ?? [],
  };
}

const perFrame = Object.fromEntries(
  frames.map((frame) => {
    const parts = p50(frame, 'ocr') + p50(frame, 'objects') + p50(frame, 'describe_objects') + p50(frame, 'people') + p50(frame, 'scene');
    return [
      frame.name,
      {
        what: frame.what,
        ms: Object.fromEntries(FACTS.map((fact) => [fact, stat(frame, fact)])),
        // Side by side in the same runs: how the whole read compares with its parts, and what the child costs.
        sum_of_parts_p50_ms: r3(parts),
        read_in_process_over_parts: r3(p50(frame, 'read_in_process') / parts),
        read_via_host_over_in_process: r3(p50(frame, 'read_via_host') / p50(frame, 'read_in_process')),
        people_share_of_read: r3(p50(frame, 'people') / p50(frame, 'read_in_process')),
        keyframes_per_second_via_host: r1(1000 / p50(frame, 'read_via_host')),
        seen: seen(frame),
      },
    ];
  }),
);

const byName = (name: string) => frames.find((f) => f.name === name)!;
const machineBusy = machineAfter.busy - machineBefore.busy;
const report = {
  benchmark: 'perception-facts',
  runs: RUNS,
  warmup: WARMUP,
  machine: describeMachine(loadAtStart),
  engines: { in_process: reader.names, facts_host: host.names },
  definitions: {
    frame: `${FRAME.width}×${FRAME.height} RGB24; photos are regions of @vladmandic/human/assets/samples.jpg fitted (letterboxed) by decodeImage`,
    ms: 'wall time of one call, warm; p50 = median, p95 by nearest rank, over the runs',
    cpu_mean: 'mean CPU ms per call of this process and all its children (OCR threads, CenterNet, Human, facts host); children in 10 ms ticks',
    ocr: 'PpOcrEngine.recognize, onnxruntime in this process (the server runs it in the facts child: same code)',
    objects: 'CenterNetDetector.detect: frame copied to its child process, detection, boxes back',
    describe_objects: 'describeObjects(countObjects(boxes)): supercategory, position, colour and size per box (sync, this thread)',
    scene: 'sceneFacts(frame): named colours + brightness (sync, this thread)',
    motion: 'motion(previous keyframe, frame): still/moving on a 32×24 grid (sync; the session computes it per committed clip)',
    people: 'HumanPeopleReader.describe(frame, CenterNet person boxes): face, body and hand models on up to 4 people, in its child; no box → no model call',
    read_in_process: 'EngineFactsReader.read with the engines above: OCR, objects + description, people when a person is seen, scene',
    read_via_host: 'FactsHost.read as the server calls it: the frame to the facts child, which runs EngineFactsReader (OCR there, CenterNet and Human in grandchildren)',
    keyframes_per_second_via_host: 'the scheduler reads one keyframe at a time for the whole server: 1000 / read_via_host p50',
    other_load_percent_of_one_core: 'CPU used on the machine by other processes while measuring (all CPUs busy minus our process tree); high values make every figure pessimistic',
  },
  colour_table_first_call_ms: r3(firstColourCall),
  frames: perFrame,
  headline: {
    people_on_empty_scene_ms: stat(byName('empty'), 'people'),
    people_on_person_frames_p50_ms: Object.fromEntries(frames.filter((f) => personBoxes(f).length).map((f) => [f.name, r3(p50(f, 'people'))])),
    read_via_host_p50_ms: Object.fromEntries(frames.map((f) => [f.name, r3(p50(f, 'read_via_host'))])),
  },
  measured_seconds: r1(measureMs / 1000),
  our_cpu_percent_of_one_core: r1((100 * ourCpuMs) / measureMs),
  other_load_percent_of_one_core: r1(Math.max(0, (100 * (machineBusy - ourCpuMs)) / measureMs)),
};

console.log(JSON.stringify(report, null, 2));
console.log(table());
process.exit(0); // engine children must not hold the benchmark open

function table(): string {
  const cell = (s: { p50: number | null; p95: number | null }) => `${fmt(s.p50)}/${fmt(s.p95)}`.padStart(15);
  const head = ['ocr', 'objects', 'describe', 'scene', 'motion', 'people', 'read', 'read (host)'];
  const m = report.machine as { cpus: number; model: string; loadavg_start: number[]; loadavg_end: number[] };
  return [
    '',
    `keyframe facts, ${FRAME.width}×${FRAME.height}, ${RUNS} runs warm, ms p50/p95; ${m.cpus} × ${m.model}, load ${m.loadavg_start.join(' ')} → ${m.loadavg_end.join(' ')}`,
    `${'frame'.padEnd(13)}${head.map((h) => h.padStart(15)).join('')}   people seen`,
    ...frames.map((f) => {
      const r = perFrame[f.name]!;
      return `${f.name.padEnd(13)}${FACTS.map((fact) => cell(r.ms[fact]!)).join('')}   ${r.seen.people_described}/${r.seen.person_boxes}`;
    }),
    `people on an empty scene: ${fmt(report.headline.people_on_empty_scene_ms.p50)} ms p50 (no person box, no model call); colour table first use ${report.colour_table_first_call_ms} ms once`,
    `keyframes/s via the facts host (one at a time per server): ${frames.map((f) => `${f.name} ${perFrame[f.name]!.keyframes_per_second_via_host}`).join(', ')}`,
    `CPU while measuring: ours ${report.our_cpu_percent_of_one_core}% of one core, others ${report.other_load_percent_of_one_core}%${(report.other_load_percent_of_one_core ?? 0) > 25 ? ' — warning: the machine was shared, figures are pessimistic' : ''}`,
  ].join('\n');
}

function fmt(x: number | null): string {
  if (x === null) return '-';
  return x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(1) : x.toFixed(3);
}
