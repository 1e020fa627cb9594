/**
 * The official StreamingBench prompts (src/benchmark/*.py of THUNLP-MT/StreamingBench),
 * reproduced text for text so a model sees exactly what the published numbers were made with.
 */
import type { BenchQuestion } from './questions.ts';

const MULTIPLE_CHOICE_HEAD =
  'You are an advanced video question-answering AI assistant. You have been provided with some frames from the video and a multiple-choice question related to the video. ' +
  'Your task is to carefully analyze the video and provide the best answer to question, choosing from the four options provided. Respond with only the letter (A, B, C, or D) of the correct option.';

const SEQUENTIAL_HEAD =
  'You are an advanced video question-answering AI assistant. You have been provided with a video and a multiple-choice question related to the video. ' +
  'Your task is to carefully analyze the video and the provided context to answer the question, choosing from the four options provided. Respond with only the letter (A, B, C, or D) of the correct option.';

const PROACTIVE_HEAD =
  'You are an advanced image question-answering AI assistant. You have been provided with images and a question related to the images. ' +
  'Your task is to carefully analyze the images and provide the answer to the question. ' +
  'You need to carefully confirm whether the images content meet the conditions of the question, and then output the correct content.';

/** What the multiple-choice prompts end with. */
export const BEST_OPTION = 'The best option is:';

/**
 * The options as the official scripts show them: lettered "A. …" unless the first already
 * is, and only the first four (the template has four slots; Python's format drops the rest).
 */
export function officialOptions(options: readonly string[]): string[] {
  const lettered = options[0]!.startsWith('A.') ? options : options.slice(0, 4).map((o, i) => `${String.fromCharCode(65 + i)}. ${o}`);
  return lettered.slice(0, 4);
}

/** StreamingBench.py (real, omni and the *_stream files): question, four options, "The best option is:". */
export function multipleChoicePrompt(q: Pick<BenchQuestion, 'question' | 'options'>): string {
  const o = officialOptions(q.options!);
  return `${MULTIPLE_CHOICE_HEAD}\n\nQuestion: ${q.question}\n\nOptions:\n${o.join('\n')}\n\n${BEST_OPTION}`;
}

/** StreamingBenchSQA.py: the earlier questions of the video with their answer keys, then the question. */
export function sequentialPrompt(q: Pick<BenchQuestion, 'question' | 'options'>, context: string): string {
  const o = officialOptions(q.options!);
  return (
    `${SEQUENTIAL_HEAD}\n\n${context}\n\n` +
    `Here is the question. Answer it and don't confuse it with the previous conversation.\nQuestion: ${q.question}\n\nOptions:\n${o.join('\n')}\n\n${BEST_OPTION}`
  );
}

/** The SQA context after `q` was asked: the official script appends it with the answer key. */
export function extendSequentialContext(context: string, q: Pick<BenchQuestion, 'question' | 'options' | 'timeStamp' | 'answer'>): string {
  const o = officialOptions(q.options!);
  const head = context ? context : 'Here are the contextual information related to the video. Please answer the questions based on the contextual information: ';
  return `${head}At timestamp ${q.timeStamp}, the following question and answer occurred: Question: ${q.question}; Options: ${o[0]}, ${o[1]}, ${o[2]}, ${o[3]}; Answer: ${q.answer}; `;
}

/** StreamingBenchProactive.py: the wrapper of both proactive prompts. */
export function proactivePrompt(question: string): string {
  return `${PROACTIVE_HEAD}\n\nQuestion: ${question}\n\nThe answer is:\n`;
}

/** The question polled once a second: "… Is it the right time to output "X"? …". */
export function proactiveQuery(q: Pick<BenchQuestion, 'question' | 'groundTruthOutput'>): string {
  return `${q.question} Is it the right time to output "${q.groundTruthOutput}"? You can only answer yes or no.`;
}

/**
 * The prompt of every multiple-choice question of a file, in file order. SQA prompts carry
 * the earlier questions of their group (the official run's context; answer keys included).
 */
export function promptsFor(questions: readonly BenchQuestion[], kind: 'standard' | 'sqa'): Map<string, string> {
  const prompts = new Map<string, string>();
  const contexts = new Map<number, string>();
  for (const q of questions) {
    if (kind === 'standard') {
      prompts.set(q.key, multipleChoicePrompt(q));
      continue;
    }
    const context = contexts.get(q.entryIndex) ?? '';
    prompts.set(q.key, sequentialPrompt(q, context));
    contexts.set(q.entryIndex, extendSequentialContext(context, q));
  }
  return prompts;
}
