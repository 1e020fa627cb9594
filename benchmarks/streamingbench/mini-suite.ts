/**
 * A small StreamingBench in the official format, generated here: four 40–45 s videos made
 * with ffmpeg (colour scenes, drawtext signs, flashing boxes and words, solid colours) and Flite speech, and
 * question files about what they show and say — text on screen, words spoken, counts, order,
 * colour and place. The generator knows the truth and writes the answer keys; the options are
 * shuffled by a seeded generator. Nothing here knows how any answerer works.
 *
 *   node --import tsx benchmarks/streamingbench/mini-suite.ts --out DIR
 *
 * DIR gets videos/, audio/, questions_{real,omni,sqa,proactive,real_stream}.json and
 * mini-suite.json (what each question tests). An existing complete suite is kept.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { encodeWav } from '../../server/audio/pcm.ts';
import { FFMPEG_PATH } from '../../server/ingest/decode.ts';
import { closeSpeech, speak } from '../../test/helpers/speech.ts';
import { seededRandom } from '../seeded-random.ts';

const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
const SIZE = '640x360';
const FPS = 5;
const RATE = 16000;
/** Bumped whenever the suite changes, so cached copies are regenerated. */
const VERSION = 3;

/** What a question needs from the system to be answered. */
export type Skill = 'on-screen text' | 'words spoken' | 'count' | 'order' | 'colour' | 'position' | 'audio-visual alignment';

export interface MiniSuite {
  dir: string;
  files: { real: string; omni: string; sqa: string; proactive: string; real_stream: string };
  /** By questions file name, then question key ("entry/question" as the loader names them). */
  skills: Record<string, Record<string, Skill>>;
}

interface Scene {
  from: number;
  to: number;
  colour: string;
  text?: string;
  textColour?: string;
}

/** The signs video: five 8-second scenes, each a colour with a sign on it. */
const SIGNS: Scene[] = [
  { from: 0, to: 8, colour: 'white', text: 'EXIT 12', textColour: 'black' },
  { from: 8, to: 16, colour: 'navy', text: 'ROOM 204' },
  { from: 16, to: 24, colour: 'darkgreen', text: 'GATE B7' },
  { from: 24, to: 32, colour: 'maroon', text: 'PLATFORM 9' },
  { from: 32, to: 40, colour: 'black', text: 'LOCKER 41' },
];

/** The counting video: a grey screen where a red square and the word STOP come and go. */
const SQUARES = [
  { from: 3, to: 5, side: 'left' },
  { from: 9, to: 11, side: 'right' },
  { from: 15, to: 17, side: 'left' },
  { from: 21, to: 23, side: 'right' },
  { from: 33, to: 35, side: 'left' },
] as const;
const STOPS = [
  { from: 6, to: 8 },
  { from: 18, to: 20 },
  { from: 27, to: 29 },
];

/** The colours video: the screen filled with one colour after another, green three times. */
const COLOURS: Scene[] = [
  { from: 0, to: 6, colour: 'red' },
  { from: 6, to: 12, colour: 'blue' },
  { from: 12, to: 16, colour: 'green' },
  { from: 16, to: 22, colour: 'yellow' },
  { from: 22, to: 26, colour: 'green' },
  { from: 26, to: 32, colour: 'blue' },
  { from: 32, to: 36, colour: 'green' },
  { from: 36, to: 40, colour: 'white' },
];

/** The talk video: four scenes with a sign each, and a voice saying three things. */
const TALK_SCENES: Scene[] = [
  { from: 0, to: 12, colour: 'teal', text: 'PARKING' },
  { from: 12, to: 24, colour: 'purple', text: 'AGENDA' },
  { from: 24, to: 36, colour: 'olive', text: 'SHOPPING' },
  { from: 36, to: 45, colour: 'gray', text: 'THANK YOU' },
];
const SAID = [
  { at: 3, text: 'my car is parked on level five' },
  { at: 15, text: 'the meeting moved to room four' },
  { at: 27, text: 'please buy milk and bread' },
];


/** Three wrong counts near the right one. */
const nearby = (n: number) => (n >= 2 ? [n - 2, n - 1, n + 1] : [n + 1, n + 2, n + 3]).map((k) => `${k}.`);

const hhmmss = (s: number) => `00:${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;

interface Made {
  task_type: string;
  question: string;
  time_stamp: string;
  options: string[];
  answer: string;
  required_ability: string;
}

/** A multiple-choice question with the truth first in `choices`; the options are shuffled. */
function choice(taskType: string, question: string, atS: number, truth: string, distractors: string[], lettered = true): Made {
  const random = seededRandom(`${question}@${atS}`);
  const all = [truth, ...distractors];
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  const index = all.indexOf(truth);
  return {
    task_type: taskType,
    question,
    time_stamp: hhmmss(atS),
    options: lettered ? all.map((o, i) => `${String.fromCharCode(65 + i)}. ${o}`) : all,
    answer: String.fromCharCode(65 + index),
    required_ability: /\bnow\b/.test(question) ? 'working memory' : 'episodic memory',
  };
}

function ffmpeg(args: string[]): void {
  const r = spawnSync(FFMPEG_PATH, ['-loglevel', 'error', '-y', ...args]);
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr?.toString().trim()}`);
}

const font = () => (fs.existsSync(FONT) ? `fontfile=${FONT}:` : '');
const ENCODE = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '64k', '-movflags', '+faststart'];

/** Scenes of colour with a centred sign, over the given audio (a WAV, or silence). */
function sceneVideo(file: string, scenes: Scene[], wav?: string): void {
  const args: string[] = [];
  for (const s of scenes) args.push('-f', 'lavfi', '-t', String(s.to - s.from), '-i', `color=c=${s.colour}:s=${SIZE}:r=${FPS}`);
  const audioIndex = scenes.length;
  if (wav) args.push('-i', wav);
  else args.push('-f', 'lavfi', '-t', String(scenes.at(-1)!.to), '-i', `anullsrc=r=${RATE}:cl=mono`);
  const chains = scenes.map(
    (s, i) => `[${i}:v]${s.text ? `drawtext=${font()}text='${s.text}':fontsize=64:fontcolor=${s.textColour ?? 'white'}:x=(w-tw)/2:y=(h-th)/2,` : ''}format=yuv420p[v${i}]`,
  );
  const filter = `${chains.join(';')};${scenes.map((_, i) => `[v${i}]`).join('')}concat=n=${scenes.length}:v=1:a=0[v]`;
  ffmpeg([...args, '-filter_complex', filter, '-map', '[v]', '-map', `${audioIndex}:a`, '-t', String(scenes.at(-1)!.to), ...ENCODE, file]);
}

/** The counting video: grey, a red square now left now right, and STOP now and then. */
function countingVideo(file: string, seconds: number): void {
  const boxes = SQUARES.map((q) => `drawbox=x=${q.side === 'left' ? 70 : 450}:y=120:w=120:h=120:color=red@1:t=fill:enable='between(t,${q.from},${q.to - 0.001})'`);
  const stop = `drawtext=${font()}text='STOP':fontsize=72:fontcolor=white:x=(w-tw)/2:y=(h-th)/2:enable='${STOPS.map((s) => `between(t,${s.from},${s.to - 0.001})`).join('+')}'`;
  ffmpeg([
    '-f', 'lavfi', '-t', String(seconds), '-i', `color=c=gray:s=${SIZE}:r=${FPS}`,
    '-f', 'lavfi', '-t', String(seconds), '-i', `anullsrc=r=${RATE}:cl=mono`,
    '-vf', [...boxes, stop, 'format=yuv420p'].join(','),
    '-map', '0:v', '-map', '1:a', '-t', String(seconds), ...ENCODE, file,
  ]);
}

const write = (file: string, data: unknown) => fs.writeFileSync(file, `${JSON.stringify(data, null, 4)}\n`);

/** Generates the suite into `dir` (kept when a complete one of this version is there). */
export async function generateMiniSuite(dir: string): Promise<MiniSuite> {
  const manifestFile = path.join(dir, 'mini-suite.json');
  if (fs.existsSync(manifestFile)) {
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as MiniSuite & { version: number };
    if (manifest.version === VERSION) return { ...manifest, dir };
  }
  fs.mkdirSync(path.join(dir, 'videos'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'audio', 'real'), { recursive: true });
  const signs = './videos/sample_1_real.mp4';
  const counting = './videos/sample_2_real.mp4';
  const talk = './videos/sample_3_real.mp4';
  const colours = './videos/sample_4_real.mp4';

  sceneVideo(path.join(dir, signs), SIGNS);
  countingVideo(path.join(dir, counting), 40);
  sceneVideo(path.join(dir, colours), COLOURS);
  const talkSeconds = TALK_SCENES.at(-1)!.to;
  const voice = new Int16Array(talkSeconds * RATE);
  try {
    for (const s of SAID) voice.set(await speak(s.text), s.at * RATE);
    const wav = path.join(dir, 'talk.wav');
    fs.writeFileSync(wav, encodeWav(voice, RATE));
    sceneVideo(path.join(dir, talk), TALK_SCENES, wav);
    fs.rmSync(wav);

    const skills: MiniSuite['skills'] = {};
    const keyed = (file: string, list: { entry: number; question: number; skill: Skill }[]) => {
      skills[file] = Object.fromEntries(list.map((x) => [`${x.entry}/${x.question}`, x.skill]));
    };

    // Real-time visual understanding: the signs video, the counting video, the colours video.
    const signAt = (s: number) => SIGNS.find((x) => x.from <= s && s < x.to)!;
    const squaresBy = (s: number) => SQUARES.filter((q) => q.from < s).length;
    const stopsBy = (s: number) => STOPS.filter((q) => q.from < s).length;
    const colourName = (c: string) => `${c[0]!.toUpperCase()}${c.slice(1)}.`;
    const greensBy = (s: number) => COLOURS.filter((c) => c.colour === 'green' && c.from < s).length;
    const real = [
      {
        time: '[0:00:00 - 0:00:40]',
        questions: [
          choice('Text-Rich Understanding', 'What text is displayed on the screen right now?', 20, signAt(20).text!, ['EXIT 12', 'ROOM 204', 'DOCK 7']),
          choice('Attribute Recognition', 'What colour is the background right now?', 12, 'Navy blue.', ['White.', 'Dark green.', 'Maroon.']),
          choice('Clips Summarize', 'Which sequence of signs has been shown so far?', 30, 'EXIT 12, then ROOM 204, then GATE B7, then PLATFORM 9.', [
            'ROOM 204, then EXIT 12, then PLATFORM 9, then GATE B7.',
            'GATE B7, then PLATFORM 9, then EXIT 12, then ROOM 204.',
            'PLATFORM 9, then GATE B7, then ROOM 204, then EXIT 12.',
          ]),
          choice('Event Understanding', 'Which sign was shown first?', 36, 'EXIT 12.', ['ROOM 204.', 'GATE B7.', 'PLATFORM 9.']),
        ],
        video_categories: 'generated_signs',
        video_path: signs,
      },
      {
        time: '[0:00:00 - 0:00:40]',
        questions: [
          choice('Counting', 'How many times has the red square appeared so far?', 25, `${squaresBy(25)}.`, nearby(squaresBy(25))),
          choice('Counting', 'How many times has the word STOP been shown so far?', 31, `${stopsBy(31)}.`, nearby(stopsBy(31))),
          choice('Spatial Understanding', 'Where is the red square on the screen right now?', 22, 'On the right side.', ['On the left side.', 'At the top.', 'At the bottom.']),
        ],
        video_categories: 'generated_shapes',
        video_path: counting,
      },
      {
        time: '[0:00:00 - 0:00:40]',
        questions: [
          // Every other option fills the screen later: only the start tells them apart.
          choice('Attribute Recognition', 'What colour filled the screen at the beginning?', 30, colourName(COLOURS[0]!.colour), ['Blue.', 'Green.', 'Yellow.']),
          choice('Counting', 'How many times has the screen turned green so far?', 38, `${greensBy(38)}.`, nearby(greensBy(38))),
        ],
        video_categories: 'generated_colours',
        video_path: colours,
      },
    ];
    write(path.join(dir, 'questions_real.json'), real);
    keyed('questions_real.json', [
      { entry: 0, question: 0, skill: 'on-screen text' },
      { entry: 0, question: 1, skill: 'colour' },
      { entry: 0, question: 2, skill: 'order' },
      { entry: 0, question: 3, skill: 'order' },
      { entry: 1, question: 0, skill: 'count' },
      { entry: 1, question: 1, skill: 'count' },
      { entry: 1, question: 2, skill: 'position' },
      { entry: 2, question: 0, skill: 'colour' },
      { entry: 2, question: 1, skill: 'count' },
    ]);

    // Omni-source: what was on screen when something was said, and the reverse.
    const sceneAt = (s: number) => TALK_SCENES.find((x) => x.from <= s && s < x.to)!;
    const omni = [
      {
        time: '[0:00:00 - 0:00:45]',
        questions: [
          choice('Multimodal Alignment', `Describe the scene when the speaker said '${SAID[1]!.text}'.`, 40, `A screen reading ${sceneAt(SAID[1]!.at).text}.`, ['A screen reading PARKING.', 'A screen reading SHOPPING.', 'A screen reading THANK YOU.']),
          choice('Multimodal Alignment', 'What did the speaker say while the screen showed SHOPPING?', 40, 'Please buy milk and bread.', ['My car is parked on level five.', 'The meeting moved to room four.', 'The train leaves at noon.']),
        ],
        video_categories: 'generated_talk',
        video_path: talk,
      },
    ];
    write(path.join(dir, 'questions_omni.json'), omni);
    keyed('questions_omni.json', [
      { entry: 0, question: 0, skill: 'audio-visual alignment' },
      { entry: 0, question: 1, skill: 'audio-visual alignment' },
    ]);

    // Sequential QA: a group per video; the second question refers to the first. Options
    // unlettered, as many official SQA items are.
    const sqa = [
      [
        { time: '[0:00:00 - 0:00:12]', questions: [choice('Sequential Question Answering', 'Where did the speaker say the car is parked?', 10, 'On level five.', ['On level two.', 'In room four.', 'On the street.'], false)], video_categories: 'generated_talk', video_path: talk },
        {
          time: '[0:00:12 - 0:00:32]',
          questions: [choice('Sequential Question Answering', 'What did the speaker talk about right after the topic of the previous question?', 32, 'A meeting that moved to room four.', ['Buying milk and bread.', 'A car parked on level five.', 'A train leaving at noon.'], false)],
          video_categories: 'generated_talk',
          video_path: talk,
        },
      ],
    ];
    write(path.join(dir, 'questions_sqa.json'), sqa);
    skills['questions_sqa.json'] = { '0.0/0': 'words spoken', '0.1/0': 'words spoken' };

    // Proactive output: say it when something happens — a sign (with a scene change), a word
    // over the same picture, something said, a colour. The first is the one the tests poll.
    const locker = SIGNS.find((s) => s.text === 'LOCKER 41')!;
    const firstStop = STOPS[0]!;
    const car = SAID.find((s) => s.text.includes('car'))!;
    const yellow = COLOURS.find((c) => c.colour === 'yellow')!;
    const proactiveItem = (question: string, atS: number, truthS: number, output: string) => ({
      task_type: 'Proactive Output',
      question,
      time_stamp: hhmmss(atS),
      ground_truth_time_stamp: hhmmss(truthS),
      ground_truth_output: output,
      required_ability: 'working memory',
    });
    const proactive = [
      {
        time: '[0:00:26 - 0:00:36]',
        questions: [proactiveItem('When the screen shows the word "LOCKER", output "LOCKER 41".', 26, locker.from, 'LOCKER 41')],
        video_categories: 'generated_signs',
        video_path: signs,
      },
      {
        time: '[0:00:01 - 0:00:10]',
        questions: [proactiveItem('When the word "STOP" appears on the screen, output "STOP".', 1, firstStop.from, 'STOP')],
        video_categories: 'generated_shapes',
        video_path: counting,
      },
      {
        time: '[0:00:01 - 0:00:09]',
        questions: [proactiveItem('When the speaker mentions the car, output "CAR".', 1, car.at, 'CAR')],
        video_categories: 'generated_talk',
        video_path: talk,
      },
      {
        time: '[0:00:13 - 0:00:20]',
        questions: [proactiveItem('When the screen turns yellow, output "YELLOW".', 13, yellow.from, 'YELLOW')],
        video_categories: 'generated_colours',
        video_path: colours,
      },
    ];
    write(path.join(dir, 'questions_proactive.json'), proactive);
    keyed('questions_proactive.json', [
      { entry: 0, question: 0, skill: 'on-screen text' },
      { entry: 1, question: 0, skill: 'on-screen text' },
      { entry: 2, question: 0, skill: 'words spoken' },
      { entry: 3, question: 0, skill: 'colour' },
    ]);

    // Streaming (*_stream): the questions are spoken; the audio files hold them.
    const spoken = [
      choice('Text-Rich Understanding', 'What text is displayed on the screen right now?', 20, signAt(20).text!, ['EXIT 12', 'ROOM 204', 'DOCK 7']),
      choice('Event Understanding', 'Which sign was shown first?', 36, 'EXIT 12.', ['ROOM 204.', 'GATE B7.', 'PLATFORM 9.']),
    ];
    const streamQuestions = [];
    for (const q of spoken) {
      const audioPath = `./audio/real/sample_1_${q.time_stamp.replace(/:/g, '_')}.wav`;
      fs.writeFileSync(path.join(dir, audioPath), encodeWav(await speak(q.question.replace(/\?$/, '')), RATE));
      streamQuestions.push({ ...q, audio_path: audioPath, time: `[0:00:00 - 0:00:${q.time_stamp.slice(-2)}]` });
    }
    write(path.join(dir, 'questions_real_stream.json'), [{ questions: streamQuestions, video_path: signs }]);
    keyed('questions_real_stream.json', [
      { entry: 0, question: 0, skill: 'on-screen text' },
      { entry: 0, question: 1, skill: 'order' },
    ]);

    const suite: MiniSuite = {
      dir,
      files: {
        real: path.join(dir, 'questions_real.json'),
        omni: path.join(dir, 'questions_omni.json'),
        sqa: path.join(dir, 'questions_sqa.json'),
        proactive: path.join(dir, 'questions_proactive.json'),
        real_stream: path.join(dir, 'questions_real_stream.json'),
      },
      skills,
    };
    // Written last: its presence means the suite is complete.
    write(`${manifestFile}.tmp`, { version: VERSION, ...suite });
    fs.renameSync(`${manifestFile}.tmp`, manifestFile);
    return suite;
  } finally {
    await closeSpeech();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  if (!values.out) {
    console.error('usage: node --import tsx benchmarks/streamingbench/mini-suite.ts --out DIR');
    process.exit(2);
  }
  const suite = await generateMiniSuite(path.resolve(values.out));
  console.log(JSON.stringify(suite, null, 2));
}
