import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COCO_SUPERCATEGORIES, namedColour } from '../../../server/perception/video/scene-facts.ts';
import { COLOUR_NAMES, colourFor, expandQuery, labelsFor, positionFor } from '../../../server/reasoning/vocabulary.ts';

const added = (...words: string[]) => expandQuery(words).slice(words.length);

describe('expandQuery', () => {
  it('maps supercategory words to their labels', () => {
    const vehicles = ['bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat'];
    assert.deepEqual(added('vehicle').sort(), [...vehicles].sort());
    assert.deepEqual(added('vehicles').sort(), [...vehicles].sort());
    for (const label of ['cat', 'dog', 'bird', 'horse', 'giraffe']) assert.ok(added('animals').includes(label), label);
    for (const label of ['pizza', 'banana', 'cake']) assert.ok(added('food').includes(label), label);
    for (const label of ['chair', 'couch', 'bed', 'dining table']) assert.ok(added('furniture').includes(label), label);
    for (const label of ['tv', 'laptop', 'cell phone', 'keyboard']) assert.ok(added('electronics').includes(label), label);
    assert.deepEqual(added('electronic'), added('electronics'));
    for (const label of ['cup', 'bottle', 'fork', 'bowl']) assert.ok(added('kitchen').includes(label), label);
  });

  it('maps people words to person', () => {
    const words = ['people', 'person', 'man', 'woman', 'men', 'women', 'child', 'children', 'kid', 'kids', 'someone', 'anybody', 'guy', 'girl', 'boy', 'human'];
    for (const word of words) assert.ok(expandQuery([word]).includes('person'), word);
  });

  it('maps colour synonyms onto the palette', () => {
    assert.deepEqual(added('gray'), ['grey']);
    assert.deepEqual(added('grey'), []);
    assert.deepEqual(added('violet'), ['purple']);
    assert.deepEqual(added('navy'), ['blue']);
    assert.deepEqual(added('Crimson'), ['red']);
    assert.deepEqual(added('reddish'), ['red']);
  });

  it('maps position words onto frame thirds', () => {
    assert.deepEqual(added('middle'), ['centre']);
    assert.deepEqual(added('center'), ['centre']);
    assert.deepEqual(expandQuery(['centre']), ['centre']);
    assert.deepEqual(expandQuery(['left']), ['left']);
    assert.deepEqual(added('rightmost'), ['right']);
  });

  it('undoes plurals and everyday names of labels', () => {
    assert.deepEqual(added('cars'), ['car']);
    assert.deepEqual(added('buses'), ['bus']);
    assert.deepEqual(added('knives'), ['knife']);
    assert.deepEqual(added('mice'), ['mouse']);
    assert.deepEqual(added('phones'), ['cell phone']);
    assert.deepEqual(added('sofa'), ['couch']);
    assert.deepEqual(added('puppies'), ['dog']);
    assert.deepEqual(added('fridge'), ['refrigerator']);
  });

  it('joins two-word labels and does not read their parts alone', () => {
    assert.deepEqual(added('cell', 'phone'), ['cell phone']);
    assert.deepEqual(added('hot', 'dogs'), ['hot dog']);
    assert.deepEqual(added('traffic', 'light'), ['traffic light']);
    assert.deepEqual(added('dining', 'table'), ['dining table']);
  });

  it('keeps the question words first, lower-cased, each once', () => {
    assert.deepEqual(expandQuery(['Is', 'the', 'red', 'car', 'on', 'the', 'left']), ['is', 'the', 'red', 'car', 'on', 'left']);
    assert.deepEqual(expandQuery(['any', 'animals', 'or', 'dogs']).filter((w) => w === 'dog'), ['dog']);
    assert.deepEqual(expandQuery(['what', 'does', 'the', 'sign', 'say']), ['what', 'does', 'the', 'sign', 'say']);
    assert.deepEqual(expandQuery([]), []);
  });

  it('only ever adds COCO labels, palette colours and frame positions', () => {
    const known = new Set<string>([...Object.keys(COCO_SUPERCATEGORIES), ...COLOUR_NAMES, 'left', 'centre', 'right']);
    const words = ['vehicle', 'animal', 'food', 'furniture', 'electronics', 'kitchen', 'appliances', 'sports', 'accessories', 'people',
      'bike', 'plane', 'pet', 'screen', 'bag', 'glass', 'fruit', 'cutlery', 'gray', 'violet', 'teal', 'tan', 'middle', 'right'];
    for (const word of expandQuery(words).slice(words.length)) assert.ok(known.has(word), word);
  });
});

describe('inverse helpers', () => {
  it('labelsFor, colourFor and positionFor read single words', () => {
    assert.deepEqual(labelsFor('dog'), ['dog']);
    assert.deepEqual(labelsFor('pets'), ['cat', 'dog']);
    assert.deepEqual(labelsFor('hello'), []);
    assert.deepEqual(labelsFor('constructor'), []);
    assert.equal(colourFor('Gray'), 'grey');
    assert.equal(colourFor('blue'), 'blue');
    assert.equal(colourFor('car'), undefined);
    assert.equal(positionFor('centre'), 'centre');
    assert.equal(positionFor('top'), undefined);
  });

  it('COLOUR_NAMES is the palette the scene facts name colours in', () => {
    assert.ok(COLOUR_NAMES.includes(namedColour(255, 0, 0)));
    assert.equal(new Set(COLOUR_NAMES).size, COLOUR_NAMES.length);
    for (const name of COLOUR_NAMES) assert.equal(colourFor(name), name);
  });
});
