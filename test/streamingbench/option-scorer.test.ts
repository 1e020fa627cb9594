import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OptionScorer, chooseOption, conditionHolds, parseMultipleChoice, type EvidenceDoc, type MultipleChoice } from '../../server/eval/streamingbench/option-scorer.ts';
import { multipleChoicePrompt, proactivePrompt, proactiveQuery, promptsFor } from '../../server/eval/streamingbench/prompts.ts';
import { parseQuestionFile } from '../../server/eval/streamingbench/questions.ts';
import { TranscriptLog } from '../../memory/index.ts';
import type { ClipScene, MemoryHit } from '../../memory/types.ts';
import { hitsToEvidence } from '../../server/eval/streamingbench/option-scorer.ts';

const screen = (id: string, fromS: number, toS: number, text: string, counts?: Record<string, number>): EvidenceDoc => ({ id, startMs: fromS * 1000, endMs: toS * 1000, text, source: 'screen', ...(counts ? { counts } : {}) });
const speech = (id: string, fromS: number, toS: number, text: string): EvidenceDoc => ({ id, startMs: fromS * 1000, endMs: toS * 1000, text, source: 'speech' });
const mc = (question: string, ...options: string[]): MultipleChoice => ({ question, options: options.map((text, i) => ({ letter: String.fromCharCode(65 + i), text })) });

describe('option scorer: multiple choice without a language model', () => {
  it('picks the option whose distinguishing words the evidence holds (number words and OCR O/0 alike)', () => {
    const evidence = [speech('u1', 3, 5, 'my car is parked on level five'), screen('c1', 0, 10, 'R0OM 204')];
    assert.equal(chooseOption(mc('Where is the car parked?', 'On level two.', 'On level 5.', 'In the street.', 'On level nine.'), evidence).letter, 'B');
    assert.equal(chooseOption(mc('Which room?', 'ROOM 104', 'ROOM 2O4', 'ROOM 301', 'HALL'), evidence).letter, 'B');
  });

  it('breaks exact ties by a hash of the question: deterministic, and no letter favoured', () => {
    const letters = new Map<string, number>();
    for (let i = 0; i < 80; i++) {
      const q = mc(`What colour is thing ${i}?`, 'Red.', 'Green.', 'Blue.', 'Yellow.');
      const a = chooseOption(q, []).letter;
      assert.equal(chooseOption(q, []).letter, a);
      letters.set(a, (letters.get(a) ?? 0) + 1);
    }
    assert.deepEqual([...letters.keys()].sort(), ['A', 'B', 'C', 'D']);
    for (const n of letters.values()) assert.ok(n >= 8 && n <= 32, JSON.stringify([...letters]));
  });

  it('about now, the latest sighting wins among options seen alike; about the first, the earliest', () => {
    const signs = [screen('f1', 0, 8, 'EXIT 12'), screen('f2', 8, 16, 'ROOM 204'), screen('f3', 16, 24, 'GATE B7')];
    const options = ['ROOM 204', 'EXIT 12', 'GATE B7', 'DOCK 7'];
    assert.equal(chooseOption(mc('What text is displayed on the screen right now?', ...options), signs).letter, 'C');
    assert.equal(chooseOption(mc('Which sign was shown first?', ...options), signs).letter, 'B');
    assert.equal(chooseOption(mc('Which sign was shown last?', ...options), signs).letter, 'C');
  });

  it('lists: the option naming things in the order they were seen', () => {
    const signs = [screen('f1', 0, 8, 'EXIT 12'), screen('f2', 8, 16, 'ROOM 204'), screen('f3', 16, 24, 'GATE B7')];
    const q = mc('Which sequence of signs was shown?', 'ROOM 204, then EXIT 12, then GATE B7.', 'GATE B7, then ROOM 204, then EXIT 12.', 'EXIT 12, then ROOM 204, then GATE B7.', 'EXIT 12, then GATE B7, then ROOM 204.');
    assert.equal(chooseOption(q, signs).letter, 'C');
  });

  it('how many: separate runs of evidence showing what the question names, or the object count', () => {
    const frames = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((s) => screen(`f${s}`, s, s + 1, [1, 2, 6, 9, 10].includes(s) ? 'STOP' : ''));
    const choice = chooseOption(mc('How many times has the word STOP been shown so far?', '1.', '2.', '3.', '4.'), frames);
    assert.equal(choice.count, 3, 'frames 1–2, 6 and 9–10: three sightings');
    assert.equal(choice.letter, 'C');
    const people = [screen('c1', 0, 5, 'person', { person: 2 }), screen('c2', 5, 9, 'person', { person: 3 })];
    assert.equal(chooseOption(mc('How many people are in the room now?', 'One.', 'Two.', 'Three.', 'Four.'), people).letter, 'C');
  });

  it('when the question names a moment ("when the speaker said …"), the option seen closest to it', () => {
    const evidence = [
      screen('c1', 0, 12, 'PARKING'),
      screen('c2', 12, 24, 'AGENDA'),
      screen('c3', 24, 36, 'SHOPPING'),
      speech('u1', 3, 5, 'my car is parked on level five'),
      speech('u2', 15, 17, 'the meeting moved to room four'),
    ];
    const q = mc("Describe the scene when the speaker said 'the meeting moved to room four'.", 'A screen reading PARKING.', 'A screen reading AGENDA.', 'A screen reading SHOPPING.', 'A screen reading EXIT.');
    assert.equal(chooseOption(q, evidence).letter, 'B');
  });

  it('reads the official prompts back: question and lettered options, SQA context ignored', () => {
    const prompt = multipleChoicePrompt({ question: 'What is shown?', options: ['A. One', 'B. Two', 'C. Three', 'D. Four'] });
    assert.deepEqual(parseMultipleChoice(prompt), mc('What is shown?', 'One', 'Two', 'Three', 'Four'));
    const file = parseQuestionFile([
      [
        { video_path: 'v', questions: [{ task_type: 'Sequential Question Answering', question: 'First?', time_stamp: '1', answer: 'A', options: ['x', 'y', 'z', 'w'] }] },
        { video_path: 'v', questions: [{ task_type: 'Sequential Question Answering', question: 'Second?', time_stamp: '2', answer: 'B', options: ['p', 'q', 'r', 's'] }] },
      ],
    ]);
    assert.deepEqual(parseMultipleChoice(promptsFor(file.questions, 'sqa').get('0.1/0')!), mc('Second?', 'p', 'q', 'r', 's'));
    assert.equal(parseMultipleChoice('What did I say about the weather?'), undefined);
  });

  it('proactive: yes when what the condition names is in the last two seconds of evidence', () => {
    const evidence = [screen('f30', 30, 31, 'PLATFORM'), screen('f32', 32, 33, 'LOCKER 41')];
    const condition = 'When the screen shows the word "LOCKER"';
    assert.equal(conditionHolds(condition, evidence.slice(0, 1), 31_000), false);
    assert.equal(conditionHolds(condition, evidence, 33_000), true);
    assert.equal(conditionHolds(condition, evidence, 36_000), false, 'too long ago to be now');
  });

  it('as a Reasoner: a letter first, a plain Yes./No. for proactive polls, the quoted output for the instruction', async () => {
    const hits: MemoryHit[] = [
      { kind: 'clip', id: 'c1', startMs: 0, endMs: 5000, wallStartMs: 0, score: 1, matchedBy: ['text'], text: '', clip: { id: 'c1', memoryId: 'm', sessionId: 's', startMs: 0, endMs: 5000, wallStartMs: 0, frameCount: 5, thumbnail: new Uint8Array(), ocrText: 'GATE B7', objects: [], transcript: '', soundEvents: [] } },
      // The evaluation's own earlier prompt mentions every option: it is not evidence.
      { kind: 'utterance', id: 'p1', startMs: 0, endMs: 0, wallStartMs: 0, score: 1, matchedBy: ['text'], text: '', utterance: { id: 'p1', memoryId: 'm', sessionId: 's', role: 'user', text: 'EXIT 12 ROOM 204 DOCK 7', startMs: 0, endMs: 0, wallStartMs: 0 } },
    ];
    const scorer = new OptionScorer({ exclude: new Set(['p1']) });
    const ask = async (question: string, nowMs = 6000, instructions?: string) => {
      let out = '';
      for await (const d of scorer.respond({ question, instructions, conversation: [], transcript: new TranscriptLog(), nowMs, evidence: hits, images: [] }, new AbortController().signal)) if (d.type === 'text') out += d.text;
      return out;
    };
    const prompt = multipleChoicePrompt({ question: 'What text is displayed?', options: ['A. EXIT 12', 'B. ROOM 204', 'C. GATE B7', 'D. DOCK 7'] });
    const answer = await ask(prompt);
    assert.match(answer, /^C\. GATE B7\nNo language model is configured/);
    // A spoken question: the turn is the question, the prompt with the options comes as instructions.
    assert.match(await ask('what text is displayed', 6000, prompt), /^C\./);
    const q = { question: 'When the screen shows "GATE", output "gate seen".', groundTruthOutput: 'gate seen' };
    assert.equal(await ask(proactivePrompt(proactiveQuery(q)), 5000), 'Yes.');
    assert.equal(await ask(proactivePrompt(proactiveQuery(q)), 9000), 'No.');
    assert.equal(await ask(proactivePrompt(q.question)), 'gate seen');
    assert.match(await ask('what did I say?'), /No language model is configured/);
  });

  describe('scene facts: colours, counts, places, people and kinds', () => {
    const scene = (facts: Partial<ClipScene>): ClipScene => ({ colours: [], objects: [], people: [], ...facts });
    const shown = (id: string, fromS: number, toS: number, facts: Partial<ClipScene>, text = ''): EvidenceDoc => ({ ...screen(id, fromS, toS, text), scene: scene(facts) });
    const solid = (name: string) => ({ colours: [{ name, share: 0.97 }] });
    /** A screen filled with one colour after another, green three times. */
    const colours = ['red', 'blue', 'green', 'yellow', 'green', 'blue', 'green', 'white'].map((c, i) => shown(`c${i}`, i * 5, i * 5 + 4.5, solid(c)));

    it('a colour question reads the frame colours at the moment it asks about', () => {
      const options = ['Blue.', 'Red.', 'Yellow.', 'Green.'];
      assert.equal(chooseOption(mc('What colour filled the screen at the beginning?', ...options), colours).letter, 'B');
      const now = colours.slice(0, 4);
      assert.equal(chooseOption(mc('What colour is the background right now?', 'Navy blue.', 'White.', 'Maroon.', 'Lime.'), now.slice(0, 2)).letter, 'A', 'navy is blue');
      assert.equal(chooseOption(mc('What colour is the screen now?', ...options), now).letter, 'C');
      // The whole frame, not a speck: a red square on grey is a grey screen.
      const square = [shown('s1', 0, 2, { colours: [{ name: 'grey', share: 0.9 }, { name: 'red', share: 0.1 }] })];
      assert.equal(chooseOption(mc('What colour is the screen now?', 'Red.', 'Grey.', 'Blue.', 'Green.'), square).letter, 'B');
    });

    it("an object's colour and place come from its boxes, for the thing the question names", () => {
      const street = [
        shown('k1', 0, 5, {
          colours: [{ name: 'grey', share: 0.8 }, { name: 'blue', share: 0.2 }],
          objects: [
            { label: 'car', count: 1, supercategory: 'vehicle', positions: ['left'], colours: ['red'] },
            { label: 'cup', count: 1, supercategory: 'kitchen', positions: ['right'], colours: ['white'] },
          ],
        }),
      ];
      assert.equal(chooseOption(mc('What colour is the car?', 'Blue.', 'Grey.', 'Crimson.', 'White.'), street).letter, 'C', 'crimson is red');
      assert.equal(chooseOption(mc('What colour is the cup?', 'Blue.', 'Grey.', 'Red.', 'White.'), street).letter, 'D');
      assert.equal(chooseOption(mc('Where is the cup right now?', 'On the left side.', 'In the middle.', 'On the right side.', 'At the top.'), street).letter, 'C');
      assert.equal(chooseOption(mc('Where is the vehicle?', 'On the left side.', 'In the middle.', 'On the right side.', 'At the top.'), street).letter, 'A');
    });

    it('counts: runs of a colour, things by kind, people as many as either fact saw', () => {
      const greens = chooseOption(mc('How many times has the screen turned green so far?', '4.', '3.', '2.', '1.'), colours);
      assert.equal(greens.count, 3);
      assert.equal(greens.letter, 'B');
      const pets = [shown('p1', 0, 5, { objects: [{ label: 'cat', count: 1, supercategory: 'animal' }, { label: 'dog', count: 2, supercategory: 'animal' }] })];
      assert.equal(chooseOption(mc('How many animals are there now?', '1.', '2.', '3.', '4.'), pets).letter, 'C');
      const room = [shown('r1', 0, 5, { objects: [{ label: 'person', count: 2 }], people: ['left', 'centre', 'right'].map((position) => ({ position, distance: 'middle', gestures: [] })) })];
      assert.equal(chooseOption(mc('How many people are in the room now?', 'One.', 'Two.', 'Three.', 'Four.'), room).letter, 'C');
    });

    it('people, expressions and kinds of things are words the options can match', () => {
      const person = shown('h1', 0, 5, { objects: [{ label: 'person', count: 1, supercategory: 'person', positions: ['centre'] }], people: [{ position: 'centre', distance: 'near', facing: 'camera', posture: 'standing', gestures: ['thumbs up'], emotion: 'happy' }] });
      assert.equal(chooseOption(mc('What is the woman doing?', 'Crying.', 'Sleeping on a bed.', 'Smiling at the camera.', 'Riding a horse.'), [person]).letter, 'C');
      assert.equal(chooseOption(mc('What gesture does the man make?', 'A thumbs up.', 'A wave.', 'A bow.', 'A salute.'), [person]).letter, 'A');
      const pet = shown('d1', 0, 5, { objects: [{ label: 'dog', count: 1, supercategory: 'animal', positions: ['left'], colours: ['brown'] }] });
      assert.equal(chooseOption(mc('What appeared on the screen?', 'A vehicle.', 'An animal.', 'Some food.', 'A piece of furniture.'), [pet]).letter, 'B');
      assert.equal(chooseOption(mc('Which pet was shown?', 'A kitten.', 'A parrot.', 'A puppy.', 'A goldfish.'), [pet]).letter, 'C');
    });

    it('memory hits bring their scene along', () => {
      const s = scene({ colours: [{ name: 'red', share: 1 }], objects: [{ label: 'cat', count: 2, supercategory: 'animal' }] });
      const clip = { id: 'c1', memoryId: 'm', sessionId: 's', startMs: 0, endMs: 5000, wallStartMs: 0, frameCount: 5, thumbnail: new Uint8Array(), ocrText: '', objects: [{ label: 'cat', count: 2 }], transcript: '', soundEvents: [], scene: s };
      const [doc] = hitsToEvidence([{ kind: 'clip', id: 'c1', startMs: 0, endMs: 5000, wallStartMs: 0, score: 1, matchedBy: ['recent'], text: '', clip }]);
      assert.equal(doc!.scene, s);
      assert.equal(chooseOption(mc('What colour was the screen?', 'Red.', 'Blue.', 'Green.', 'White.'), [doc!]).letter, 'A');
    });
  });
});
