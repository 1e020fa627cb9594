import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Observation, Watch, WatchEvidence, WatchRule } from '../../../server/reasoning/watch/types.ts';
import { WatchChecker, type ClipObservation } from '../../../server/reasoning/watch/watch-checker.ts';
import { announceWatch, describeWatch, parseCondition, parseWatchRequest } from '../../../server/reasoning/watch/watch-request.ts';
import { watchDue } from '../../../server/reasoning/watch/watch-state.ts';

const signal = new AbortController().signal;

function watch(rule: WatchRule, condition = 'the condition', extra: Partial<Watch> = {}): Watch {
  return { id: 'w1', memoryId: 'm1', createdAt: 0, firedCount: 0, condition, rule, mode: 'once', cooldownMs: 60_000, ...extra };
}

function clip(startMs: number, facts: { ocr?: string; objects?: Record<string, number>; cut?: boolean } = {}): ClipObservation {
  const objects = Object.entries(facts.objects ?? {}).map(([label, count]) => ({ label, count }));
  return { kind: 'clip', startMs, endMs: startMs + 4000, ocrText: facts.ocr ?? '', objects, sceneChange: facts.cut ?? false };
}

const said = (text: string, startMs = 0, role: 'user' | 'assistant' = 'user'): Observation => ({ kind: 'utterance', role, text, startMs, endMs: startMs + 1500 });
const heard = (label: string, startMs: number, endMs: number): Observation => ({ kind: 'sound', event: { label, startMs, endMs, score: 0.9 } });

/** Checks observations in order; every rule answers synchronously. Returns the evidence per observation. */
function run(checker: WatchChecker, observations: Observation[]): (WatchEvidence | undefined)[] {
  return observations.map((o) => {
    const result = checker.check(o, signal);
    assert.ok(!(result instanceof Promise), 'rules answer synchronously');
    return result;
  });
}

/** The index of the only observation that fired, or -1 if none did. */
function firedAt(results: (WatchEvidence | undefined)[]): number {
  const fired = results.flatMap((r, i) => (r ? [i] : []));
  assert.ok(fired.length <= 1, `fired more than once: ${fired}`);
  return fired[0] ?? -1;
}

describe('parseWatchRequest', () => {
  it('recognises requests and returns their condition and mode', () => {
    const cases: [string, string, 'once' | 'every'][] = [
      ['tell me when the gate number is on the screen', 'the gate number is on the screen', 'once'],
      ['Let me know if a dog shows up.', 'a dog shows up', 'once'],
      ['let me know when the cup is gone', 'the cup is gone', 'once'],
      ['warn me if the smoke alarm goes off', 'the smoke alarm goes off', 'once'],
      ['remind me when someone says boarding', 'someone says boarding', 'once'],
      ['notify me when the scene changes', 'the scene changes', 'once'],
      ['alert me if someone knocks', 'someone knocks', 'once'],
      ['tell me if you hear a siren', 'you hear a siren', 'once'],
      ['can you tell me when music starts', 'music starts', 'once'],
      ['please let me know when the train is on the board', 'the train is on the board', 'once'],
      ['tell me every time someone else arrives', 'someone else arrives', 'every'],
      ['tell me whenever I say the word banana', 'I say the word banana', 'every'],
      ['Hey Omni, could you please tell me as soon as the screen says "GATE B17"?', 'the screen says "GATE B17"', 'once'],
      ['ok tell me when anyone mentions the train thanks', 'anyone mentions the train', 'once'],
      ['when the dog comes in, tell me', 'the dog comes in', 'once'],
      ['Thanks. Warn me each time the number of people changes!', 'the number of people changes', 'every'],
      ['tell me if you see a dog', 'you see a dog', 'once'],
      ['let me know if anything changes', 'anything changes', 'once'],
      ["tell me when someone says 'I was there'", "someone says 'I was there'", 'once'],
      ['tell me when the last train is on the board', 'the last train is on the board', 'once'],
    ];
    for (const [text, condition, mode] of cases) assert.deepEqual(parseWatchRequest(text), { condition, mode }, text);
  });

  it('leaves questions and other requests alone', () => {
    const cases = [
      'when did the alarm go off', 'tell me what you see', 'what did I say when I came in', 'tell me about the gate',
      'tell me when the alarm went off', 'can you tell me when you last saw my keys', 'remind me when the meeting is',
      'tell me if this is a dog', "tell me if I'm wrong", 'let me know if you have any questions', 'tell me once again what the sign said',
      'tell me a story', "I'll tell you when I'm ready", 'do you know when the train leaves', 'tell me when', '',
    ];
    for (const text of cases) assert.equal(parseWatchRequest(text), undefined, text);
  });
});

describe('parseCondition', () => {
  it('maps conditions onto rules', () => {
    const cases: [string, WatchRule][] = [
      // Text on screen: quoted words, or content words that are not screen words nor kinds of text.
      ['the gate number is on the screen', { kind: 'text', words: ['gate'] }],
      ['the screen says boarding', { kind: 'text', words: ['boarding'] }],
      ['the screen shows gate B17', { kind: 'text', words: ['gate', 'b17'] }],
      ['EXIT appears on the screen', { kind: 'text', words: ['exit'] }],
      ['the departure time is on the board', { kind: 'text', words: ['departure'] }],
      ['the screen shows 9:40', { kind: 'text', words: ['9:40'] }],
      ['you see the word exit', { kind: 'text', words: ['exit'] }],
      ['the screen says “GATE B17”', { kind: 'text', words: ['gate', 'b17'] }],
      ["the sign says 'EXIT'", { kind: 'text', words: ['exit'] }],
      ['the screen shows the song title', { kind: 'text', words: ['song', 'title'] }],
      // Objects: COCO labels through the shared vocabulary (synonyms, plurals, two-word labels).
      ['a dog appears', { kind: 'object_appears', label: 'dog' }],
      ['a dog is on the screen', { kind: 'object_appears', label: 'dog' }],
      ['you see a cat', { kind: 'object_appears', label: 'cat' }],
      ['a teddy bear shows up', { kind: 'object_appears', label: 'teddy bear' }],
      ['I am holding a mug', { kind: 'object_appears', label: 'cup' }],
      ['the cup is gone', { kind: 'object_leaves', label: 'cup' }],
      ['the cup is taken away', { kind: 'object_leaves', label: 'cup' }],
      ['my phone disappears', { kind: 'object_leaves', label: 'cell phone' }],
      ["you can't see the cup anymore", { kind: 'object_leaves', label: 'cup' }],
      ['everyone leaves', { kind: 'object_leaves', label: 'person' }],
      ['nobody is there', { kind: 'object_leaves', label: 'person' }],
      // People arriving or leaving change the count (the user is usually in view already).
      ['someone else arrives', { kind: 'object_count', label: 'person', direction: 'more' }],
      ['someone comes in', { kind: 'object_count', label: 'person', direction: 'more' }],
      ['someone leaves', { kind: 'object_count', label: 'person', direction: 'fewer' }],
      ['another car arrives', { kind: 'object_count', label: 'car', direction: 'more' }],
      ['the number of people changes', { kind: 'object_count', label: 'person' }],
      ['the number of cars goes up', { kind: 'object_count', label: 'car', direction: 'more' }],
      // Words said.
      ["someone says 'boarding now'", { kind: 'phrase', words: ['boarding', 'now'] }],
      ['someone says boarding', { kind: 'phrase', words: ['boarding'] }],
      ['I say the word banana', { kind: 'phrase', words: ['banana'] }],
      ['anyone mentions the train', { kind: 'phrase', words: ['train'] }],
      ['boarding is announced', { kind: 'phrase', words: ['boarding'] }],
      ['you hear the word fire', { kind: 'phrase', words: ['fire'] }],
      // Sounds.
      ['the smoke alarm goes off', { kind: 'sound', label: 'alarm' }],
      ['the timer beeps', { kind: 'sound', label: 'alarm' }],
      ['you hear a siren', { kind: 'sound', label: 'siren' }],
      ['someone knocks', { kind: 'sound', label: 'knock' }],
      ['music starts', { kind: 'sound', label: 'music' }],
      ['music plays', { kind: 'sound', label: 'music' }],
      ['the doorbell rings', { kind: 'sound', label: 'doorbell' }],
      // Scene changes.
      ['the scene changes', { kind: 'scene_change' }],
      ['something changes', { kind: 'scene_change' }],
      ['the view changes', { kind: 'scene_change' }],
      ['the camera moves', { kind: 'scene_change' }],
    ];
    for (const [condition, rule] of cases) assert.deepEqual(parseCondition(condition), rule, condition);
  });

  it('reads quoted words as heard when spoken, as read otherwise', () => {
    assert.deepEqual(parseCondition('the announcement says "final call"'), { kind: 'phrase', words: ['final', 'call'] });
    assert.deepEqual(parseCondition('the board reads "final call"'), { kind: 'text', words: ['final', 'call'] });
    assert.deepEqual(parseCondition('“Gate B-17” appears'), { kind: 'text', words: ['gate', 'b-17'] });
  });

  it('gives undefined when no rule means exactly the condition', () => {
    const cases = [
      'a red car appears', // a colour the rule cannot check
      'an animal comes in', // many labels
      'a bag appears', // several labels
      'my flight is on the board', // which flight only the user knows
      'someone says my name',
      'someone is at the door',
      'it is time to go',
      'the weather gets better',
      '',
    ];
    for (const condition of cases) assert.equal(parseCondition(condition), undefined, condition);
  });
});

describe('describeWatch and announceWatch', () => {
  it('says back what each rule will check', () => {
    const cases: [WatchRule, string][] = [
      [{ kind: 'text', words: ['gate'] }, 'OK, I\'ll tell you when the screen shows “gate”.'],
      [{ kind: 'object_appears', label: 'dog' }, "OK, I'll tell you when a dog comes into view."],
      [{ kind: 'object_leaves', label: 'cup' }, "OK, I'll tell you when the cup leaves the view."],
      [{ kind: 'object_count', label: 'person', direction: 'more' }, "OK, I'll tell you when someone comes into view."],
      [{ kind: 'object_count', label: 'person' }, "OK, I'll tell you when the number of people in view changes."],
      [{ kind: 'phrase', words: ['boarding', 'now'] }, 'OK, I\'ll tell you when someone says “boarding now”.'],
      [{ kind: 'sound', label: 'alarm' }, "OK, I'll tell you when I hear an alarm."],
      [{ kind: 'scene_change' }, "OK, I'll tell you when the scene changes."],
      [{ kind: 'judged', question: 'Is the van outside?' }, "OK, I'll keep an eye out and tell you when my van is outside."],
    ];
    for (const [rule, sentence] of cases) assert.equal(describeWatch({ condition: 'your van is outside', rule, mode: 'once', cooldownMs: 0 }), sentence);
    assert.equal(describeWatch({ condition: 'x', rule: { kind: 'sound', label: 'knock' }, mode: 'every', cooldownMs: 0 }), "OK, I'll tell you every time I hear a knock.");
  });

  it('says the user\'s words back in the assistant\'s person', () => {
    const cases: [string, string][] = [
      ['I am holding a cup', "OK, I'll keep an eye out and tell you when you are holding a cup."],
      ['you see my keys', "OK, I'll keep an eye out and tell you when I see your keys."],
      ['someone calls you', "OK, I'll keep an eye out and tell you when someone calls me."],
      ['the screen says "MY GATE"', 'OK, I\'ll keep an eye out and tell you when the screen says "MY GATE".'],
    ];
    for (const [condition, sentence] of cases) assert.equal(describeWatch({ condition, rule: { kind: 'judged', question: condition }, mode: 'once', cooldownMs: 0 }), sentence);
  });

  it('announces the news first, then the request it answers, in the assistant\'s person', () => {
    const gate = watch({ kind: 'text', words: ['gate'] }, 'the gate number is on the screen');
    assert.equal(
      announceWatch(gate, { mediaMs: 62_000, kind: 'clip', text: "the screen showed 'GATE B17 CLOSES AT 9:40'" }),
      "The screen now shows 'GATE B17 CLOSES AT 9:40' (01:02). You asked me to tell you when the gate number is on the screen.",
    );
    const banana = watch({ kind: 'phrase', words: ['banana'] }, 'I say the word banana', { mode: 'every' });
    assert.equal(
      announceWatch(banana, { mediaMs: 5000, kind: 'utterance', text: "someone said 'banana bread'" }),
      "Someone just said 'banana bread' (00:05). You asked me to tell you every time you say the word banana.",
    );
    const alarm = watch({ kind: 'sound', label: 'alarm' }, 'you hear the alarm');
    assert.equal(
      announceWatch(alarm, { mediaMs: 12_000, kind: 'sound', text: 'an alarm sounded (00:12–00:15)' }),
      'An alarm just sounded (00:12–00:15). You asked me to tell you when I hear the alarm.',
    );
  });
});

describe('WatchChecker rules', () => {
  it('text fires on the first clip that reads it, once while it stays, again when it comes back', () => {
    const checker = new WatchChecker(watch({ kind: 'text', words: ['gate'] }));
    const results = run(checker, [
      clip(0, { ocr: 'DEPARTURES' }),
      clip(4000, { ocr: 'DEPARTURES\nBA 123 LONDON' }),
      clip(8000, { ocr: 'DEPARTURES\nGATE B17 CLOSES AT 9:40' }),
      clip(12_000, { ocr: 'GATE B17 CLOSES AT 9:40' }),
    ]);
    assert.equal(firedAt(results), 2);
    assert.deepEqual(results[2], { mediaMs: 8000, kind: 'clip', text: "the screen showed 'GATE B17 CLOSES AT 9:40'" });
    assert.equal(run(checker, [clip(16_000, { ocr: 'WELCOME' })])[0], undefined);
    assert.ok(run(checker, [clip(20_000, { ocr: 'Gate B17' })])[0], 'back on screen: fires again');
    checker.rearm(); // that firing was not delivered
    assert.ok(run(checker, [clip(24_000, { ocr: 'Gate B17' })])[0], 'rearmed: fires while it stays');
  });

  it('text already on screen fires at once: on the first clip, or from the baseline', () => {
    assert.equal(firedAt(run(new WatchChecker(watch({ kind: 'text', words: ['exit'] })), [clip(0, { ocr: 'EXIT' })])), 0);
    const checker = new WatchChecker(watch({ kind: 'text', words: ['exit'] }), { baseline: clip(0, { ocr: 'Emergency EXIT' }) });
    assert.equal(checker.checkBaseline()?.text, "the screen showed 'Emergency EXIT'");
    assert.equal(run(checker, [clip(4000, { ocr: 'EXIT' })])[0], undefined, 'said already');
    assert.equal(new WatchChecker(watch({ kind: 'object_appears', label: 'dog' }), { baseline: clip(0) }).checkBaseline(), undefined);
  });

  it('reads words as OCR spaces and glues them, but not inside other words', () => {
    const reads = (ocr: string, words: string[]) => run(new WatchChecker(watch({ kind: 'text', words })), [clip(0, { ocr })])[0] !== undefined;
    const cases: [string, string[], boolean][] = [
      ['GATE B17', ['gate', 'b17'], true],
      ['Gate: B 17', ['b17'], true],
      ['GATEB17', ['gate', 'b17'], true],
      ['DEPARTURES', ['departure'], true],
      ['Closes 9:40', ['9:40'], true],
      ['CAFÉ', ['cafe'], true],
      ['gate\nb17', ['gate', 'b17'], true], // all words on screen, on any lines
      ['DELEGATE', ['gate'], false],
      ['LOCATION', ['cat'], false],
      ['CATALOGUE', ['cat'], false],
      ['B170', ['b17'], false],
      ['GATE', ['gate', 'b17'], false],
    ];
    for (const [ocr, words, expected] of cases) assert.equal(reads(ocr, words), expected, `${words} in ${JSON.stringify(ocr)}`);
  });

  it('object_appears: the first clip is the baseline; fires when the label comes into view', () => {
    const rule: WatchRule = { kind: 'object_appears', label: 'dog' };
    const clips = [clip(0, { objects: { dog: 1 } }), clip(4000, { objects: { person: 1 } }), clip(8000, { objects: { person: 1, dog: 2 } })];
    const results = run(new WatchChecker(watch(rule)), clips);
    assert.equal(firedAt(results), 2, 'a dog already in view has not appeared');
    assert.deepEqual(results[2], { mediaMs: 8000, kind: 'clip', text: 'two dogs came into view' });
    const withBaseline = run(new WatchChecker(watch(rule), { baseline: clip(0) }), [clip(4000, { objects: { dog: 1 } })]);
    assert.equal(withBaseline[0]?.text, 'a dog came into view');
  });

  it('object_leaves fires on the clip the label is gone from', () => {
    const results = run(new WatchChecker(watch({ kind: 'object_leaves', label: 'cup' })), [
      clip(0, { objects: { cup: 1, person: 1 } }),
      clip(4000, { objects: { cup: 2 } }),
      clip(8000, { objects: { person: 1 } }),
      clip(12_000, {}),
    ]);
    assert.equal(firedAt(results), 2);
    assert.deepEqual(results[2], { mediaMs: 8000, kind: 'clip', text: 'the cup left the view' });
  });

  it('object_count fires on a change, only in its direction when it has one', () => {
    const people = (...counts: number[]) => counts.map((n, i) => clip(i * 4000, { objects: n ? { person: n } : {} }));
    const any = run(new WatchChecker(watch({ kind: 'object_count', label: 'person' })), people(1, 1, 2));
    assert.equal(firedAt(any), 2);
    assert.equal(any[2]?.text, 'the number of people changed from 1 to 2');
    assert.equal(firedAt(run(new WatchChecker(watch({ kind: 'object_count', label: 'person', direction: 'more' })), people(2, 1, 1, 0, 1))), 4);
    assert.equal(firedAt(run(new WatchChecker(watch({ kind: 'object_count', label: 'person', direction: 'fewer' })), people(1, 2, 2, 1))), 3);
  });

  it('phrase fires on user words in order, never on the assistant\'s', () => {
    const checker = new WatchChecker(watch({ kind: 'phrase', words: ['boarding', 'now'] }));
    const results = run(checker, [
      said('we are now boarding', 1000),
      said('keyboarding now is fun', 2000),
      said('Boarding now, gate B17', 3000, 'assistant'),
      said('Flight BA123 is boarding now at gate B17.', 4000),
    ]);
    assert.equal(firedAt(results), 3);
    assert.deepEqual(results[3], { mediaMs: 4000, kind: 'utterance', text: "someone said 'Flight BA123 is boarding now at gate B17.'" });
    assert.ok(run(new WatchChecker(watch({ kind: 'phrase', words: ['train'] })), [said('the trains are late')])[0], 'plural heard');
  });

  it('sound fires on its label, also inside an AudioSet name', () => {
    const checker = new WatchChecker(watch({ kind: 'sound', label: 'alarm' }));
    const results = run(checker, [heard('music', 1000, 9000), heard('speech', 9000, 10_000), heard('alarm', 12_000, 15_000)]);
    assert.equal(firedAt(results), 2);
    assert.deepEqual(results[2], { mediaMs: 12_000, kind: 'sound', text: 'an alarm sounded (00:12–00:15)' });
    assert.ok(run(checker, [heard('smoke detector, smoke alarm', 20_000, 21_000)])[0]);
    assert.equal(run(new WatchChecker(watch({ kind: 'sound', label: 'siren' })), [heard('alarm', 0, 1000)])[0], undefined);
  });

  it('scene_change fires on a clip that began with a cut, and rules ignore other observation kinds', () => {
    const results = run(new WatchChecker(watch({ kind: 'scene_change' })), [clip(0), said('the scene changes'), clip(4000, { cut: true })]);
    assert.equal(firedAt(results), 2);
    assert.deepEqual(results[2], { mediaMs: 4000, kind: 'clip', text: 'the scene changed' });
    assert.equal(firedAt(run(new WatchChecker(watch({ kind: 'text', words: ['gate'] })), [said('gate'), heard('gate', 0, 1)])), -1);
  });

  it('parsed conditions fire end to end', () => {
    const rule = parseCondition('the gate number is on the screen')!;
    const results = run(new WatchChecker(watch(rule)), [clip(0, { ocr: 'WELCOME' }), clip(4000, { ocr: 'Gate B17' })]);
    assert.equal(firedAt(results), 1);
  });
});

describe('watchDue', () => {
  it('tells active, cooling, expired and done apart', () => {
    const base = watch({ kind: 'scene_change' }, 'x', { cooldownMs: 10_000 });
    const cases: [Partial<Watch>, number, ReturnType<typeof watchDue>][] = [
      [{}, 1000, 'active'],
      [{ mode: 'once', firedCount: 1, lastFiredAt: 0 }, 100_000, 'done'],
      [{ mode: 'once', firedCount: 1, lastFiredAt: 0, expiresAt: 50 }, 100, 'done'],
      [{ mode: 'every', firedCount: 1, lastFiredAt: 5000 }, 14_999, 'cooling'],
      [{ mode: 'every', firedCount: 1, lastFiredAt: 5000 }, 15_000, 'active'],
      [{ expiresAt: 2000 }, 1999, 'active'],
      [{ expiresAt: 2000 }, 2000, 'expired'],
      [{ mode: 'every', firedCount: 3, lastFiredAt: 1000, expiresAt: 2000 }, 2500, 'expired'],
    ];
    for (const [extra, now, expected] of cases) assert.equal(watchDue({ ...base, ...extra }, now), expected, JSON.stringify({ extra, now }));
  });
});
