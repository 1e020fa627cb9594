/**
 * StreamingBench question files, read unchanged: `questions_real.json`, `questions_omni.json`,
 * `questions_sqa.json` (a list of lists: one inner list per video), `questions_proactive.json`
 * and the `*_stream` variants (questions carry `audio_path` and their own `time`).
 * Every entry and question is checked before any work starts; an error names the file, the
 * entry index and the field.
 */
import fs from 'node:fs';
import path from 'node:path';

/** Which official evaluation script a file belongs to; it decides prompt and scoring. */
export type QuestionFileKind = 'standard' | 'sqa' | 'proactive';

export interface BenchQuestion {
  /** Stable id in the file: "12/0" (entry 12, question 0) or "3.1/0" (SQA group 3, entry 1). */
  key: string;
  /** Position of the question in the file, over all entries. */
  ordinal: number;
  entryIndex: number;
  /** SQA files: the entry's place inside its group. */
  subIndex?: number;
  questionIndex: number;
  videoPath: string;
  taskType: string;
  question: string;
  timeStamp: string;
  /** `time_stamp` in seconds, parsed as the official scripts do. */
  timeS: number;
  /** Multiple choice (every kind but proactive). */
  options?: string[];
  answer?: string;
  /** Proactive output. */
  groundTruthTimeStamp?: string;
  groundTruthTimeS?: number;
  groundTruthOutput?: string;
  /** `*_stream` files: the question spoken, as a WAV path relative like `video_path`. */
  audioPath?: string;
  requiredAbility?: string;
  videoCategories?: string;
  /** The annotated span, "[0:00:00 - 0:00:10]", on the entry or (stream files) the question. */
  time?: string;
  cause?: string;
  effect?: string;
  /** The question object inside `QuestionFile.data`: results are written into it. */
  raw: Record<string, unknown>;
}

export interface QuestionFile {
  path: string;
  name: string;
  kind: QuestionFileKind;
  /** The parsed JSON, kept whole so results can be written back in the official layout. */
  data: unknown[];
  questions: BenchQuestion[];
}

/** A question file that does not follow the official schema. */
export class QuestionFileError extends TypeError {
  override name = 'QuestionFileError';
}

/** "HH:MM:SS" (or "MM:SS", "SS") to seconds, the official way: Σ part × 60^i from the right. */
export function parseTimeStamp(text: string): number {
  return text
    .split(':')
    .reverse()
    .reduce((sum, part, i) => sum + Number.parseInt(part, 10) * 60 ** i, 0);
}

/** Digits in up to three colon-separated parts: the official files also hold "0:07:40", "00:24" and "00:12450". */
const TIME_STAMP = /^\d+(:\d+){0,2}$/;
const LETTER = /^[A-Z]$/;

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return typeof v === 'number' || typeof v === 'boolean' ? String(v) : typeof v;
}

/** Reads and checks a question file; throws QuestionFileError naming the entry and field. */
export function loadQuestionFile(file: string): QuestionFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new QuestionFileError(`cannot read the questions file '${file}': ${(error as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new QuestionFileError(`${path.basename(file)} is not JSON: ${(error as Error).message}`);
  }
  return parseQuestionFile(data, file);
}

/** Checks parsed JSON against the official schema (see the module comment). */
export function parseQuestionFile(data: unknown, file = 'questions.json'): QuestionFile {
  const name = path.basename(file);
  if (!Array.isArray(data)) throw new QuestionFileError(`${name}: the top level must be a list of entries, got ${describe(data)}`);
  if (data.length === 0) throw new QuestionFileError(`${name}: the file has no entries`);
  const nested = Array.isArray(data[0]);
  const questions: BenchQuestion[] = [];
  data.forEach((item, entryIndex) => {
    if (nested) {
      if (!Array.isArray(item)) throw new QuestionFileError(`${name}: entry ${entryIndex} must be a list of entries like entry 0 (sequential QA files group entries per video), got ${describe(item)}`);
      if (item.length === 0) throw new QuestionFileError(`${name}: entry ${entryIndex} is an empty group`);
      item.forEach((entry, subIndex) => readEntry(name, entry, entryIndex, subIndex, questions));
    } else {
      readEntry(name, item, entryIndex, undefined, questions);
    }
  });
  const proactive = questions.filter((q) => q.groundTruthOutput !== undefined);
  if (proactive.length && proactive.length !== questions.length) {
    const odd = questions.find((q) => q.groundTruthOutput === undefined)!;
    throw new QuestionFileError(`${name}: ${where(odd)}: proactive files hold only proactive questions (ground_truth_time_stamp, ground_truth_output); this one is multiple choice`);
  }
  if (proactive.length && nested) throw new QuestionFileError(`${name}: proactive questions cannot be grouped in lists`);
  const kind: QuestionFileKind = nested ? 'sqa' : proactive.length ? 'proactive' : 'standard';
  return { path: file, name, kind, data, questions };
}

function where(q: Pick<BenchQuestion, 'entryIndex' | 'subIndex' | 'questionIndex'>): string {
  return `entry ${q.entryIndex}${q.subIndex === undefined ? '' : `[${q.subIndex}]`}, question ${q.questionIndex}`;
}

function readEntry(name: string, entry: unknown, entryIndex: number, subIndex: number | undefined, out: BenchQuestion[]): void {
  const at = `entry ${entryIndex}${subIndex === undefined ? '' : `[${subIndex}]`}`;
  const fail = (field: string, expected: string, got: unknown): never => {
    throw new QuestionFileError(`${name}: ${at}: field "${field}" must be ${expected}, got ${describe(got)}`);
  };
  if (!isObject(entry)) throw new QuestionFileError(`${name}: ${at} must be an object, got ${describe(entry)}`);
  const videoPath = entry.video_path;
  if (typeof videoPath !== 'string' || !videoPath.trim()) fail('video_path', 'a path to the video', videoPath);
  if (!Array.isArray(entry.questions) || entry.questions.length === 0) fail('questions', 'a non-empty list', entry.questions);
  for (const field of ['video_categories', 'time'] as const) {
    if (entry[field] !== undefined && typeof entry[field] !== 'string') fail(field, 'a string', entry[field]);
  }
  (entry.questions as unknown[]).forEach((raw, questionIndex) => {
    const qAt = `${at}, question ${questionIndex}`;
    const qFail = (field: string, expected: string, got: unknown): never => {
      throw new QuestionFileError(`${name}: ${qAt}: field "${field}" must be ${expected}, got ${describe(got)}`);
    };
    if (!isObject(raw)) throw new QuestionFileError(`${name}: ${qAt} must be an object, got ${describe(raw)}`);
    const text = (field: string, required: boolean): string | undefined => {
      const v = raw[field];
      if (v === undefined && !required) return undefined;
      if (typeof v !== 'string' || (required && !v.trim())) qFail(field, required ? 'a non-empty string' : 'a string', v);
      return v as string;
    };
    const taskType = text('task_type', true)!;
    const question = text('question', true)!;
    const timeStamp = text('time_stamp', true)!;
    if (!TIME_STAMP.test(timeStamp)) qFail('time_stamp', 'a time "HH:MM:SS"', timeStamp);
    const q: BenchQuestion = {
      key: `${entryIndex}${subIndex === undefined ? '' : `.${subIndex}`}/${questionIndex}`,
      ordinal: out.length,
      entryIndex,
      subIndex,
      questionIndex,
      videoPath: videoPath as string,
      taskType,
      question,
      timeStamp,
      timeS: parseTimeStamp(timeStamp),
      requiredAbility: text('required_ability', false),
      videoCategories: entry.video_categories as string | undefined,
      time: text('time', false) ?? (entry.time as string | undefined),
      cause: text('cause', false),
      effect: text('effect', false),
      raw,
    };
    const audioPath = text('audio_path', false);
    if (audioPath !== undefined) {
      if (!audioPath.trim()) qFail('audio_path', 'a path to the spoken question', audioPath);
      q.audioPath = audioPath;
    }
    if (raw.ground_truth_time_stamp !== undefined || raw.ground_truth_output !== undefined) {
      const gt = text('ground_truth_time_stamp', true)!;
      if (!TIME_STAMP.test(gt)) qFail('ground_truth_time_stamp', 'a time "HH:MM:SS"', gt);
      q.groundTruthTimeStamp = gt;
      q.groundTruthTimeS = parseTimeStamp(gt);
      q.groundTruthOutput = text('ground_truth_output', true);
    } else {
      const options = raw.options;
      // The official prompt shows four options: fewer cannot be asked the official way. Empty
      // strings occur in the official files (omni entry 33) and are shown as they are.
      if (!Array.isArray(options) || options.length < 4 || !options.every((o) => typeof o === 'string')) {
        qFail('options', 'a list of at least 4 strings (multiple choice), or the question needs ground_truth_time_stamp and ground_truth_output (proactive)', options);
      }
      const answer = raw.answer;
      if (typeof answer !== 'string' || !LETTER.test(answer) || answer.charCodeAt(0) - 65 >= (options as string[]).length) {
        qFail('answer', `one option letter A–${String.fromCharCode(64 + (options as string[]).length)}`, answer);
      }
      q.options = options as string[];
      q.answer = answer as string;
    }
    out.push(q);
  });
}

/**
 * Where a `video_path` (or `audio_path`) may be on this machine. The official preprocessing
 * makes the relative paths ("./videos/sample_348_real.mp4") absolute from the data directory,
 * so a relative path is taken relative to `--videos`, an absolute one as is; failing that, the
 * path's last one, two or three parts under `--videos` (files whose paths were made absolute
 * on another machine, or a --videos that points at the videos folder itself).
 */
export function mediaCandidates(mediaPath: string, baseDir: string): string[] {
  const parts = mediaPath.split(/[\\/]+/).filter((p) => p && p !== '.');
  const tails = [1, 2, 3].filter((n) => n <= parts.length).map((n) => path.resolve(baseDir, ...parts.slice(-n)));
  return [...new Set([path.isAbsolute(mediaPath) ? mediaPath : path.resolve(baseDir, mediaPath), ...tails])];
}

export function resolveMedia(mediaPath: string, baseDir: string): string | undefined {
  return mediaCandidates(mediaPath, baseDir).find((p) => fs.existsSync(p) && fs.statSync(p).isFile());
}

/**
 * Resolves every video (and, when asked, every spoken question) before work starts; throws
 * one error listing everything missing, with the paths tried.
 */
export function resolveAllMedia(questions: BenchQuestion[], baseDir: string, withAudio: boolean): { videos: Map<string, string>; audio: Map<string, string> } {
  const videos = new Map<string, string>();
  const audio = new Map<string, string>();
  const missing: string[] = [];
  const seen = new Set<string>();
  const find = (kind: string, p: string, q: BenchQuestion, into: Map<string, string>) => {
    if (into.has(p) || seen.has(`${kind}:${p}`)) return;
    const found = resolveMedia(p, baseDir);
    if (found) into.set(p, found);
    else {
      seen.add(`${kind}:${p}`);
      missing.push(`  ${kind} '${p}' (${where(q)}); tried ${mediaCandidates(p, baseDir).join(', ')}`);
    }
  };
  for (const q of questions) {
    find('video', q.videoPath, q, videos);
    if (withAudio && q.audioPath) find('audio', q.audioPath, q, audio);
  }
  if (missing.length) {
    const shown = missing.slice(0, 20);
    if (missing.length > shown.length) shown.push(`  … and ${missing.length - shown.length} more`);
    throw new QuestionFileError(`${missing.length} media file${missing.length === 1 ? '' : 's'} not found under --videos ${baseDir}:\n${shown.join('\n')}`);
  }
  return { videos, audio };
}
