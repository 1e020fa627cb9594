import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TranscriptLog } from '../../../memory/index.ts';
import type { ClipRecord, MemoryHit } from '../../../memory/types.ts';
import { EmbeddedAnswerer, NO_LANGUAGE_MODEL_NOTE, type ChatMessage, type ReasonerRequest } from '../../../server/reasoning/index.ts';
import type { SceneView } from '../../../server/reasoning/llm/types.ts';

async function respond(request: Partial<ReasonerRequest> & { question: string }): Promise<string> {
  let text = '';
  const full: ReasonerRequest = { conversation: [], transcript: new TranscriptLog(), nowMs: 900_000, evidence: [], images: [], ...request };
  for await (const d of new EmbeddedAnswerer().respond(full, new AbortController().signal)) if (d.type === 'text') text += d.text;
  return text;
}

async function answer(question: string, log: TranscriptLog, conversation: ChatMessage[] = []): Promise<string> {
  log.add({ id: 'q', role: 'user', text: question, startMs: 200_000, endMs: 201_000 });
  return respond({ question, questionId: 'q', conversation, transcript: log, nowMs: 201_000 });
}

function heard(): TranscriptLog {
  const log = new TranscriptLog();
  log.add({ id: 'a', role: 'user', text: 'my keys are in the blue bowl', startMs: 134_000, endMs: 136_000 });
  log.add({ id: 'b', role: 'assistant', text: 'the keys answer from before', startMs: 137_000, endMs: 138_000 });
  log.add({ id: 'c', role: 'user', text: 'the train leaves at nine', startMs: 150_000, endMs: 151_000 });
  return log;
}

/** A memory hit for a clip whose screen read `ocrText`, found by text search. */
function seenHit(id: string, startMs: number, endMs: number, ocrText: string): MemoryHit {
  const clip = { id, memoryId: 'm', sessionId: 's', startMs, endMs, wallStartMs: startMs, frameCount: 4, thumbnail: new Uint8Array(), ocrText, objects: [], transcript: '', soundEvents: [] };
  return { kind: 'clip', id, startMs, endMs, wallStartMs: startMs, score: 1, matchedBy: ['text'], text: ocrText, clip };
}

/** A memory hit for something the user said, found by text search. */
function saidHit(id: string, startMs: number, text: string): MemoryHit {
  const utterance = { id, memoryId: 'm', sessionId: 's', role: 'user' as const, text, startMs, endMs: startMs + 2000, wallStartMs: startMs };
  return { kind: 'utterance', id, startMs, endMs: startMs + 2000, wallStartMs: startMs, score: 1, matchedBy: ['text'], text, utterance };
}

test('leads with what the user said, with its media time', async () => {
  const text = await answer('where are my keys?', heard());
  assert.match(text, /^At 02:14 you said: my keys are in the blue bowl\./);
  assert.doesNotMatch(text, /keys answer from before/); // its own words are not evidence
});

test('the note on having no language model ends the first answer of a conversation, and only that one', async () => {
  const first = await answer('where are my keys?', heard());
  assert.ok(first.endsWith(` ${NO_LANGUAGE_MODEL_NOTE}`), first);
  const later = await answer('where are my keys?', heard(), [{ role: 'user', content: 'where are my keys?' }, { role: 'assistant', content: first }]);
  assert.equal(later, 'At 02:14 you said: my keys are in the blue bowl.');
  assert.equal(new EmbeddedAnswerer().notice, NO_LANGUAGE_MODEL_NOTE);
});

test('says plainly when it does not know', async () => {
  const text = await answer('what colour is the car?', heard());
  assert.equal(text, `I don't know. I found nothing about that in what I have heard or seen so far. ${NO_LANGUAGE_MODEL_NOTE}`);
  const told = [{ role: 'assistant' as const, content: `Noted. ${NO_LANGUAGE_MODEL_NOTE}` }];
  assert.equal(await answer('what colour is the car?', heard(), told), "I don't know. I found nothing about that in what I have heard or seen so far.");
});

test('"what did I just say?" quotes the latest utterances', async () => {
  const text = await answer('what did I just say?', heard());
  assert.match(text, /^At 02:14 you said: my keys are in the blue bowl\. At 02:30 you said: the train leaves at nine\./);
});

test('a statement is acknowledged, not answered', async () => {
  assert.equal(await answer('the red mug is on the shelf', heard()), `Noted. ${NO_LANGUAGE_MODEL_NOTE}`);
  assert.equal(await answer('the red mug is on the shelf', heard(), [{ role: 'assistant', content: `Something. ${NO_LANGUAGE_MODEL_NOTE}` }]), 'Noted.');
});

test('the same thing seen in adjacent clips is said once, as a stretch of time', async () => {
  const evidence = [seenHit('c1', 180_000, 191_000, 'GATE B17 CLOSES AT 9:40'), seenHit('c2', 192_000, 200_000, 'gate  b17 closes at 9:40')];
  const text = await respond({ question: 'when does the gate close?', evidence });
  assert.equal(text, `From 03:00 to 03:20 the screen showed "GATE B17 CLOSES AT 9:40". ${NO_LANGUAGE_MODEL_NOTE}`);
});

test('the same thing said twice is said once, with both times, and the freed place goes to further evidence', async () => {
  const evidence = [
    saidHit('u1', 65_000, 'the gate is B17'),
    saidHit('u2', 130_000, 'The gate is  B17.'),
    seenHit('c1', 180_000, 185_000, 'GATE B17'),
    seenHit('c2', 300_000, 305_000, 'GATE B17'), // not adjacent to c1: its own time
    saidHit('u3', 400_000, 'boarding for gate B17 starts at nine'),
  ];
  const text = await respond({ question: 'which gate?', evidence });
  assert.equal(
    text,
    `At 01:05 and 02:10 you said: the gate is B17. At 03:00 and 05:00 the screen showed "GATE B17". At 06:40 you said: boarding for gate B17 starts at nine. ${NO_LANGUAGE_MODEL_NOTE}`,
  );
});

test("the user's earlier questions are not quoted as evidence", async () => {
  const evidence = [saidHit('u1', 60_000, 'which gate is it?'), saidHit('u2', 70_000, 'where is the gate'), saidHit('u3', 80_000, 'the gate is B17'), saidHit('q', 90_000, 'which gate?')];
  const text = await respond({ question: 'which gate?', questionId: 'q', evidence });
  assert.equal(text, `At 01:20 you said: the gate is B17. ${NO_LANGUAGE_MODEL_NOTE}`);
  // Without a memory store the transcript is searched, with the same rule.
  const log = new TranscriptLog();
  log.add({ id: 'a', role: 'user', text: 'where did I leave my keys?', startMs: 10_000, endMs: 11_000 });
  log.add({ id: 'b', role: 'user', text: 'my keys are in the blue bowl', startMs: 20_000, endMs: 21_000 });
  assert.doesNotMatch(await answer('where are my keys?', log), /leave/);
});

test('offered tools, it says once that it cannot call them, then answers as ever', async () => {
  const ask = (conversation: ChatMessage[]) => respond({ question: 'what time is it?', conversation, nowMs: 0, tools: [{ name: 'get_time' }] });
  const first = await ask([]);
  assert.match(first, /^I cannot call tools: no language model is configured\. I don't know\./);
  assert.doesNotMatch(await ask([{ role: 'assistant', content: first }]), /cannot call tools/);
});

// Questions about the scene: the view on screen now, and clips memory found, each with its facts.

type Scene = NonNullable<ClipRecord['scene']>;

/** A scene with these facts (the rest empty). */
const scene = (facts: Partial<Scene>): Scene => ({ colours: [], objects: [], people: [], ...facts });

/** The view on screen at the question. */
function viewOf(facts: Partial<Scene>, ocrText = ''): SceneView {
  const s = scene(facts);
  return { startMs: 890_000, endMs: 900_000, ocrText, objects: s.objects.map(({ label, count }) => ({ label, count })), scene: s };
}

/** A memory hit for a clip with these scene facts, found only as recent (no words matched). */
function sceneHit(id: string, startMs: number, endMs: number, facts: Partial<Scene>, ocrText = ''): MemoryHit {
  const hit = seenHit(id, startMs, endMs, ocrText);
  const s = scene(facts);
  return { ...hit, matchedBy: ['recent'], clip: { ...hit.clip!, objects: s.objects.map(({ label, count }) => ({ label, count })), scene: s } };
}

const SMILING_ON_THE_LEFT = { position: 'left', distance: 'middle', facing: 'camera', gestures: [], emotion: 'happy' };
const ask = (question: string, view?: SceneView, evidence: MemoryHit[] = []) =>
  respond({ question, evidence, conversation: [{ role: 'assistant', content: `Noted. ${NO_LANGUAGE_MODEL_NOTE}` }], ...(view ? { view } : {}) });

/** Memory: a red screen at the start, later a brown cat and two people, later a car. */
const REMEMBERED = [
  sceneHit('c3', 120_000, 125_000, { colours: [{ name: 'grey', share: 0.7 }], objects: [{ label: 'car', count: 1, supercategory: 'vehicle', positions: ['right'], colours: ['blue'] }] }),
  sceneHit('c2', 60_000, 65_000, {
    colours: [{ name: 'green', share: 0.6 }, { name: 'white', share: 0.3 }],
    objects: [
      { label: 'cat', count: 1, supercategory: 'animal', positions: ['left'], colours: ['brown'] },
      { label: 'person', count: 2, supercategory: 'person', positions: ['left', 'right'], colours: ['yellow', 'black'] },
    ],
    people: [{ position: 'left', distance: 'near', posture: 'standing', gestures: [] }, { position: 'right', distance: 'far', posture: 'sitting', gestures: [] }],
  }),
  sceneHit('c1', 0, 4000, { colours: [{ name: 'red', share: 0.96 }] }),
  sceneHit('c1b', 5000, 9000, { colours: [{ name: 'red', share: 0.95 }, { name: 'white', share: 0.05 }] }),
];

test('"what do you see?" describes the view in one sentence from its facts, not from memory', async () => {
  const view = viewOf({ colours: [{ name: 'white', share: 0.8 }, { name: 'grey', share: 0.2 }], objects: [{ label: 'person', count: 1, positions: ['left'] }, { label: 'cup', count: 1, positions: ['right'] }], people: [SMILING_ON_THE_LEFT] });
  const text = await respond({ question: 'what do you see right now?', view, evidence: REMEMBERED });
  assert.equal(text, `I see one person on the left, facing the camera and smiling, and a cup on the right; the scene is mostly white and grey. ${NO_LANGUAGE_MODEL_NOTE}`);
  for (const question of ['What do you see?', 'what is on the screen?', "what's in front of you?", 'can you see anything?']) {
    assert.match(await ask(question, view), /^I see one person on the left/, question);
  }
  // Counts, colours, text on screen and light.
  const street = viewOf({ brightness: 'dark', colours: [{ name: 'black', share: 0.7 }], objects: [{ label: 'car', count: 3, positions: ['left', 'left', 'left'], colours: ['red', 'red', 'red'] }, { label: 'person', count: 2 }] }, 'EXIT 12.');
  assert.equal(await ask('what do you see?', street), 'I see three red cars on the left and two people, and the screen shows "EXIT 12"; the scene is dark and mostly black.');
  // Nothing in view: said plainly, memory is not read out as if it were now.
  assert.equal(await ask('what do you see right now?', undefined, REMEMBERED), 'I have nothing in view right now.');
  assert.equal(await ask('what do you see?', viewOf({})), 'I see nothing I can name right now.');
});

test('counts, colours, kinds and places are answered from the facts', async () => {
  const view = viewOf({
    colours: [{ name: 'blue', share: 0.55 }, { name: 'white', share: 0.3 }],
    objects: [
      { label: 'person', count: 2, supercategory: 'person', positions: ['left', 'right'] },
      { label: 'cup', count: 3, supercategory: 'kitchen', positions: ['centre', 'centre', 'centre'], colours: ['white', 'white', 'white'] },
      { label: 'cat', count: 1, supercategory: 'animal', positions: ['right'], colours: ['brown'] },
      { label: 'car', count: 2, supercategory: 'vehicle', positions: ['left', 'right'], colours: ['red', 'blue'] },
    ],
    people: [SMILING_ON_THE_LEFT, { position: 'right', distance: 'far', posture: 'sitting', facing: 'away', gestures: ['thumbs up'] }],
  });
  const cases: [string, string][] = [
    ['how many people are there?', 'I see two people.'],
    ['how many cups can you see?', 'I see three cups.'],
    ['how many dogs are there right now?', 'I see no dogs right now.'],
    ['what colour is the cat?', 'The cat is brown.'],
    ['what colour are the cups?', 'The cups are white.'],
    ['what colour is the car?', 'I see a red car on the left and a blue car on the right.'],
    ['what colour is the background?', 'The background is mostly blue and white.'],
    ['which animal can you see?', 'I see a brown cat on the right.'],
    ['what vehicles do you see?', 'I see a red car on the left and a blue car on the right.'],
    ['is there a red car?', 'Yes, I see a red car on the left.'],
    ['where is the cat?', 'The cat is on the right.'],
    ['who is on the left?', 'On the left I see one person, facing the camera and smiling.'],
    ['what is on the right right now?', 'On the right I see one person, far away, sitting, facing away and giving a thumbs up, a brown cat, and a blue car.'],
    ['is anyone smiling?', 'I see two people: one on the left, facing the camera and smiling, and one on the right, far away, sitting, facing away and giving a thumbs up.'],
    ['is there a dog?', 'No, I see no dogs right now.'],
  ];
  for (const [question, expected] of cases) assert.equal(await ask(question, view), expected, question);
});

test('what sight cannot tell (names, ages, thoughts) is said plainly, then what can be seen', async () => {
  const view = viewOf({ objects: [{ label: 'person', count: 1, positions: ['left'] }], people: [SMILING_ON_THE_LEFT] });
  assert.equal(await ask('who is that man?', view), "I can't tell who people are or what they are called: I only see how they look. I see one person on the left, facing the camera and smiling.");
  assert.equal(await ask("what's her name?", view), "I can't tell who people are or what they are called: I only see how they look. I see one person on the left, facing the camera and smiling.");
  assert.equal(await ask('how old is the person on the left?', view), "I can't tell how old people are. On the left I see one person, facing the camera and smiling.");
  assert.match(await ask('what is he thinking?', view), /^I can't tell what someone thinks, wants or why they do something: I only see how they look\. I see one person/);
  assert.match(await ask('why is she smiling?', view), /^I can't tell what someone thinks, wants or why/);
});

test('"what have you seen" is answered from memory, with times: the earliest for "at the beginning", the most at once for "how many"', async () => {
  const view = viewOf({ colours: [{ name: 'white', share: 1 }] });
  assert.equal(await ask('what colour filled the screen at the beginning?', view, REMEMBERED), 'From 00:00 to 00:09 the screen was all red.');
  assert.equal(await ask('which animal did you see?', view, REMEMBERED), 'At 01:00 I saw a brown cat on the left.');
  assert.equal(await ask('which vehicle have you seen so far?', view, REMEMBERED), 'At 02:00 I saw a blue car on the right.');
  assert.equal(await ask('how many people did you see?', view, REMEMBERED), 'At 01:00 I saw two people.');
  assert.equal(await ask('what colour was the car?', view, REMEMBERED), 'At 02:00 the car was blue.');
  assert.equal(await ask('who was on the right?', view, REMEMBERED), 'At 01:00 on the right I saw one person, far away and sitting.');
  assert.equal(
    await ask('what have you seen so far?', view, REMEMBERED),
    'From 00:00 to 00:09 the scene was all red. At 01:00 I saw a brown cat on the left, and two people: one in yellow on the left, close to the camera and standing, and one in black on the right, far away and sitting; the scene was mostly green and white. At 02:00 I saw a blue car on the right; the scene was mostly grey.',
  );
  // Not in view now, seen before: both are the answer.
  assert.equal(await ask('what colour is the cat?', view, REMEMBERED), 'I see no cats right now. At 01:00 the cat was brown.');
  // Neither in view nor remembered: the plain "don't know".
  assert.match(await ask('what colour was the dog?', view, REMEMBERED), /^I don't know\./);
});

test('questions about what was said or read stay with words: the view does not answer them', async () => {
  const view = viewOf({ objects: [{ label: 'car', count: 1, positions: ['left'], colours: ['red'] }] });
  const log = heard();
  log.add({ id: 'q', role: 'user', text: 'where are my keys?', startMs: 200_000, endMs: 201_000 });
  assert.match(await respond({ question: 'where are my keys?', questionId: 'q', transcript: log, view }), /^At 02:14 you said: my keys are in the blue bowl\./);
  // A sign found by its words is quoted alone, whatever else the clip's scene held.
  const sign = sceneHit('c1', 180_000, 190_000, { colours: [{ name: 'blue', share: 0.9 }] }, 'GATE B17 CLOSES AT 9:40');
  assert.equal(await ask('when does the gate close?', view, [{ ...sign, matchedBy: ['text'] }]), 'At 03:00 the screen showed "GATE B17 CLOSES AT 9:40".');
});

test('a question about what was said or asked may quote an earlier question; others never do', async () => {
  const log = new TranscriptLog();
  log.add({ id: 'w', role: 'user', text: 'what is the weather like today', startMs: 60_000, endMs: 62_000 });
  assert.match(await answer('what did I ask about the weather?', log), /you said: what is the weather like today/);
  const again = new TranscriptLog();
  again.add({ id: 'w', role: 'user', text: 'what is the weather like today', startMs: 60_000, endMs: 62_000 });
  assert.doesNotMatch(await answer('is the weather nice?', again), /you said/);
});
