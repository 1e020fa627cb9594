/**
 * Seeded generators of hostile client traffic for the Realtime WebSocket: mutations of every
 * client event type (wrong types, missing and unknown fields, values past the documented
 * limits, deep nesting), truncated and non-JSON text, binary frames, oversized messages,
 * base64 garbage, and out-of-order sequences (WebRTC signalling before join, bogus DTLS and
 * RTP parameters, truncating unknown items, cancelling nothing, committing an empty buffer).
 *
 * Every case says what the server must answer (see Expectation), read from
 * server/protocol/realtime-connection.ts and the session: the same seed gives the same cases.
 * Shared by test/e2e/fuzz.test.ts and benchmarks/fuzz/index.ts.
 */
import zlib from 'node:zlib';
import { seededRandom } from '../../benchmarks/seeded-random.ts';
import { MAX_EVENT_DEPTH, type ClientEvent } from '../../server/protocol/client-events.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
type EventType = ClientEvent['type'];

/**
 * What the server must do with one case. Tokens are `error:<code>` (an `error` event naming the
 * case's `event_id`, or naming none when the case cannot carry one) or a server event type
 * (matched on `request_id` for signalling and watch replies, else in arrival order).
 */
export interface Expectation {
  /** Answers that must all come. */
  all: string[];
  /** One of these must come (the session's state decides which); empty: silence is documented too. */
  any: string[];
  /** Errors that may come besides (refused session fields, live-audio pacing). */
  may: string[];
  /** The answer may come after later messages (WebRTC, watches, image decoding, the audio queue). */
  async: boolean;
  /** The refused field: the error's `param` is this path or a parent of it (zod names the object that failed). */
  param?: string;
}

export interface FuzzCase {
  /** Sequence number within the generator. */
  n: number;
  /** What was done to the event: 'valid', 'wrong_type', 'truncated_json', … (for reports). */
  family: string;
  /** The event type it started from, if any. */
  eventType?: EventType;
  /** The `event_id` the server will read from it (a string `event_id` field), if any. */
  id?: string;
  /** The frame: text unless `binary`; a string may hold TRANSPORT_SLOT for the latest live transport id. */
  data: string | Buffer;
  binary: boolean;
  expect: Expectation;
}

export interface FuzzOptions {
  seed: number | string;
  /** The server's `limits.maxMessageBytes`: oversized cases straddle it. */
  maxMessageBytes: number;
  /** Whether the server runs WebRTC; without it every valid signalling event is answered `webrtc_unavailable`. */
  webrtc: boolean;
  /** Prefix of event ids and item ids, so several generators can share a server. @defaultValue 'fz' */
  prefix?: string;
}

/** Replaced, at send time, by the id of the transport the server created last (or a bogus one). */
export const TRANSPORT_SLOT = '$TRANSPORT$';

/** The item id barriers ask for: never created by a generator. */
export const BARRIER_ITEM_ID = 'fuzz_barrier_item';

/**
 * Error codes a client may be answered with, by the layer that sends them. Anything else
 * (`server_error`, `webrtc_failed`, a session failure) means the server broke, not the client.
 */
export const DOCUMENTED_ERROR_CODES = [
  // realtime-connection.ts, before the event is read
  'rate_limited', 'message_too_large', 'invalid_json', 'missing_type', 'unknown_event_type', 'invalid_value',
  // dispatch
  'invalid_base64', 'invalid_audio', 'invalid_image', 'input_audio_rate_exceeded', 'input_audio_buffer_commit_empty',
  'item_not_found', 'item_id_taken', 'conversation_already_has_active_response', 'response_cancel_not_active',
  'field_locked', 'user_locked', 'session_draining', 'memory_unavailable', 'video_unavailable',
  'watch_condition_unsupported', 'watch_limit_reached', 'watch_not_found',
  'webrtc_unavailable', 'webrtc_not_joined', 'webrtc_closed', 'webrtc_too_many_transports', 'webrtc_unknown_transport', 'webrtc_already_connected', 'webrtc_already_producing',
] as const;

const E = (code: string) => `error:${code}`;

// ---- small deterministic values ----

type Rng = () => number;

class Pick {
  constructor(readonly rng: Rng) {}
  int(min: number, max: number): number {
    return min + Math.floor(this.rng() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.rng() < p;
  }
  one<T>(items: readonly T[]): T {
    return items[Math.floor(this.rng() * items.length)]!;
  }
  weighted<T>(items: readonly [T, number][]): T {
    const total = items.reduce((n, [, w]) => n + w, 0);
    let x = this.rng() * total;
    for (const [item, w] of items) if ((x -= w) < 0) return item;
    return items.at(-1)![0];
  }
  word(min = 1, max = 12): string {
    const letters = 'abcdefghijklmnopqrstuvwxyz';
    let s = '';
    for (let i = this.int(min, max); i > 0; i--) s += letters[this.int(0, 25)];
    return s;
  }
  /** Printable text with the odd awkward character: NUL, RTL marks, emoji, CJK, quotes and backslashes. */
  text(min = 1, max = 40): string {
    const odd = ['\u0000', '\u200f', '\u202e', '😀', '语', '"', '\\', '\n', '\t', ' ', 'é', '\ufeff'];
    let s = '';
    for (let i = this.int(min, max); i > 0; i--) s += this.chance(0.1) ? this.one(odd) : String.fromCharCode(this.int(32, 126));
    return s;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(0, 255);
    return b;
  }
}

// ---- a tiny valid PNG, made here (no fixture file) ----

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** An 8×8 RGB PNG of one colour. */
export function tinyPng(r: number, g: number, b: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(8, 0);
  ihdr.writeUInt32BE(8, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const rows = Buffer.alloc(8 * (1 + 8 * 3));
  for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) rows.set([r, g, b], y * 25 + 1 + x * 3);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), pngChunk('IDAT', zlib.deflateSync(rows)), pngChunk('IEND', Buffer.alloc(0))]);
}

// ---- the valid events, and the fields a mutation may break ----

type Kind = 'string' | 'integer' | 'number' | 'boolean' | 'null' | 'object' | 'array';

/** A field of a valid event: where it is, what JSON it accepts, its documented bounds. */
interface Field {
  path: (string | number)[];
  accepts: Kind[];
  /** Removing it is refused. */
  required?: boolean;
  /** Strings: longest accepted; arrays: most items accepted. */
  max?: number;
  /** Only some strings are accepted (an enum, a literal, a pattern): any other string is refused. */
  closed?: boolean;
  /** An object that refuses unknown keys. */
  strict?: boolean;
}

/** A valid event, what it is answered with, and its fields. */
interface Valid {
  event: JsonObject;
  expect: Expectation;
  fields: Field[];
}

const answer = (p: Partial<Expectation>): Expectation => ({ all: [], any: [], may: [], async: false, ...p });

/** What the generator knows of the conversation it built: item ids it created, call ids. */
interface Known {
  items: string[];
  calls: string[];
}

const OPUS_CAPS = { mimeType: 'audio/opus', kind: 'audio', clockRate: 48000, channels: 2, preferredPayloadType: 100 };

export class FuzzGenerator {
  readonly #pick: Pick;
  readonly #options: Required<FuzzOptions>;
  readonly #known: Known = { items: [], calls: [] };
  #n = 0;
  #padding: string | undefined;
  readonly #png: string[] = [tinyPng(200, 30, 30), tinyPng(30, 200, 30)].map((b) => b.toString('base64'));

  constructor(options: FuzzOptions) {
    if (!Number.isInteger(options.maxMessageBytes) || options.maxMessageBytes < 1024) throw new TypeError(`maxMessageBytes must be an integer ≥ 1024, got ${options.maxMessageBytes}`);
    this.#options = { prefix: 'fz', ...options };
    this.#pick = new Pick(seededRandom(options.seed));
  }

  /** The next `count` cases (a sequence is never cut short, so a few more may come). */
  take(count: number): FuzzCase[] {
    const out: FuzzCase[] = [];
    while (out.length < count) out.push(...this.next());
    return out;
  }

  /** `count` cases made as they are asked for (a long storm never holds them all). */
  *cases(count: number): Generator<FuzzCase> {
    let made = 0;
    while (made < count) {
      for (const c of this.next()) {
        made++;
        yield c;
      }
    }
  }

  /** One case, or a short out-of-order sequence. */
  next(): FuzzCase[] {
    const p = this.#pick;
    const family = p.weighted<string>([
      ['valid', 22],
      ['wrong_type', 14],
      ['missing_field', 5],
      ['unknown_field', 6],
      ['oversized_field', 5],
      ['deep_nesting', 3],
      ['odd_numbers', 3],
      ['bad_event_id', 3],
      ['type_confusion', 5],
      ['truncated_json', 6],
      ['not_an_object', 2],
      ['junk_text', 2],
      ['binary', 3],
      ['oversized_message', 1],
      ['base64_garbage', 4],
      ['unicode', 2],
      ['sequence', 6],
    ]);
    if (family === 'sequence') return this.#sequence();
    const type = this.#eventType();
    switch (family) {
      case 'valid':
        return [this.#valid(type)];
      case 'truncated_json':
        return [this.#truncated(type)];
      case 'not_an_object':
        return [this.#text('not_an_object', p.one(['[]', '[{"type":"session.update"}]', '42', '"session.update"', 'null', 'true', '{}', '{"type":null}', '{"type":["session.update"]}']), answer({ all: [E('missing_type')] }))];
      case 'junk_text':
        // A leading '}' is never valid JSON, whatever follows.
        return [this.#text('junk_text', `}${p.text(0, 200)}`, answer({ all: [E('invalid_json')] }))];
      case 'binary':
        return [this.#binary(type)];
      case 'oversized_message':
        return [this.#oversizedMessage(type)];
      default:
        return [this.#mutated(type, family)];
    }
  }

  // ---- families ----

  #eventType(): EventType {
    const p = this.#pick;
    const webrtc: EventType[] = ['omnilive.webrtc.join', 'omnilive.webrtc.transport.create', 'omnilive.webrtc.transport.connect', 'omnilive.webrtc.produce', 'omnilive.webrtc.consume', 'omnilive.webrtc.leave'];
    const others: EventType[] = [
      'session.update', 'input_audio_buffer.append', 'input_audio_buffer.commit', 'input_audio_buffer.clear',
      'conversation.item.create', 'conversation.item.retrieve', 'conversation.item.truncate', 'conversation.item.delete',
      'output_audio_buffer.clear', 'response.create', 'response.cancel', 'omnilive.memory.search',
      'omnilive.watch.create', 'omnilive.watch.list', 'omnilive.watch.delete', 'omnilive.video_frame.append',
    ];
    // Audio appends and items carry most real traffic; signalling a sixth of the rest.
    return p.weighted<EventType>([...others.map((t): [EventType, number] => [t, t === 'input_audio_buffer.append' || t === 'conversation.item.create' ? 3 : 1]), ...webrtc.map((t): [EventType, number] => [t, 0.6])]);
  }

  #id(tag = ''): string {
    return `${this.#options.prefix}-${this.#n}${tag}`;
  }

  #case(family: string, type: EventType | undefined, data: string | Buffer, expect: Expectation, id: string | undefined, binary = false): FuzzCase {
    return { n: this.#n++, family, eventType: type, id, data, binary, expect };
  }

  #text(family: string, text: string, expect: Expectation, type?: EventType): FuzzCase {
    return this.#case(family, type, text, expect, undefined);
  }

  #valid(type: EventType, build?: (v: Valid) => void): FuzzCase {
    const v = this.#build(type);
    build?.(v);
    this.#remember(v.event);
    return this.#case('valid', type, JSON.stringify(v.event), v.expect, v.event.event_id as string | undefined);
  }

  /** What later cases may refer to: ids this one creates, if the server takes it. */
  #remember(event: JsonObject): void {
    const item = event.item as JsonObject | undefined;
    if (event.type === 'conversation.item.create' && item && typeof item.id === 'string') {
      this.#known.items.push(item.id);
      if (item.type === 'function_call' && typeof item.call_id === 'string') this.#known.calls.push(item.call_id);
    }
  }

  #truncated(type: EventType): FuzzCase {
    const text = JSON.stringify(this.#build(type).event);
    // Any proper prefix of an object's text is not JSON.
    const cut = this.#pick.chance(0.2) ? this.#pick.int(0, 3) : this.#pick.int(1, text.length - 1);
    return this.#text('truncated_json', text.slice(0, cut), answer({ all: [E('invalid_json')] }), type);
  }

  #binary(type: EventType): FuzzCase {
    const p = this.#pick;
    // A valid event sent as a binary frame is refused just the same as random bytes.
    const data = p.chance(0.5) ? Buffer.from(JSON.stringify(this.#build(type).event)) : p.bytes(p.int(0, 2048));
    return this.#case('binary', type, data, answer({ all: [E('invalid_json')] }), undefined, true);
  }

  #oversizedMessage(type: EventType): FuzzCase {
    const v = this.#build(type);
    const limit = this.#options.maxMessageBytes;
    // Mostly just past the limit (the boundary), now and then well past it.
    const pad = this.#pick.chance(0.7) ? this.#pick.int(1, 1024) : this.#pick.int(1, Math.min(limit, 64 * 1024));
    this.#padding ??= 'A'.repeat(limit + 64 * 1024);
    const event = { ...v.event, padding: this.#padding.slice(0, limit + pad) };
    return this.#case('oversized_message', type, JSON.stringify(event), answer({ all: [E('message_too_large')] }), undefined);
  }

  /** One mutation of a valid event of `type`. */
  #mutated(type: EventType, family: string): FuzzCase {
    const p = this.#pick;
    const v = this.#build(type);
    const event = v.event;
    const refused = (param: string | undefined, extra: Partial<Expectation> = {}) => answer({ all: [E('invalid_value')], param, ...extra });
    // session.update reads its session field by field: a refused field (the session itself too) still leaves session.updated.
    const inSession = (path: (string | number)[]) => type === 'session.update' && path[0] === 'session';
    const refusedAt = (path: (string | number)[]) => (inSession(path) ? refused(path.join('.'), { all: [E('invalid_value'), 'session.updated'], may: v.expect.may }) : refused(path.join('.')));
    // The id the server reads is the event's string event_id, unless the mutation broke it; a
    // message refused before it is parsed (too large) names no event: `unread`.
    const emit = (data: string, expect: Expectation, unread = false) => this.#case(family, type, data, expect, unread ? undefined : readableId(event.event_id));
    const tooLarge = (text: string) => Buffer.byteLength(text) > this.#options.maxMessageBytes;

    switch (family) {
      case 'wrong_type': {
        const field = p.one(v.fields);
        const value = this.#wrongValue(field);
        if (value === undefined) return this.#valid(type);
        setAt(event, field.path, value);
        return emit(JSON.stringify(event), refusedAt(field.path));
      }
      case 'missing_field': {
        const fields = v.fields.filter((f) => f.required);
        if (!fields.length) return this.#mutated(type, 'unknown_field');
        const field = p.one(fields);
        deleteAt(event, field.path);
        return emit(JSON.stringify(event), refusedAt(field.path));
      }
      case 'unknown_field': {
        const objects = v.fields.filter((f) => f.strict && isObject(getAt(event, f.path)));
        const target = objects.length && p.chance(0.5) ? p.one(objects).path : [];
        const key = p.one(['x_fuzz', '__proto__', 'constructor', 'toString', 'Type', 'type ', '', p.word()]);
        const parent = (target.length ? getAt(event, target) : event) as JsonObject;
        if (Object.hasOwn(parent, key)) return this.#valid(type);
        // JSON.stringify drops a '__proto__' set by assignment: the key is written into the text instead.
        parent[UNKNOWN_SLOT] = 0;
        const text = JSON.stringify(event).replace(`"${UNKNOWN_SLOT}":0`, `${JSON.stringify(key)}:${JSON.stringify(p.chance(0.5) ? p.word() : { nested: [1, 2] })}`);
        return emit(text, refusedAt([...target, key]));
      }
      case 'oversized_field': {
        const fields = v.fields.filter((f) => f.max !== undefined);
        if (!fields.length) return this.#mutated(type, 'wrong_type');
        const field = p.one(fields);
        const n = field.max! + p.int(1, Math.min(field.max!, 4096));
        const current = getAt(event, field.path);
        // A string keeps its start (an event id stays unique), then runs past the limit.
        const value = field.accepts.includes('array') ? Array.from({ length: n }, () => (current as Json[] | undefined)?.[0] ?? 'x') : `${typeof current === 'string' ? current : ''}`.padEnd(n, 'x');
        setAt(event, field.path, value);
        const text = JSON.stringify(event);
        if (tooLarge(text)) return emit(text, answer({ all: [E('message_too_large')] }), true);
        return emit(text, refusedAt(field.path));
      }
      case 'deep_nesting': {
        // Well past the edge's depth limit (tens of thousands of levels overflow the stack of
        // recursive code: structuredClone, JSON.stringify), or within it.
        const tooDeep = p.chance(0.5);
        const depth = tooDeep ? p.int(MAX_EVENT_DEPTH + 1, Math.min(30_000, Math.floor(this.#options.maxMessageBytes / 5))) : p.int(2, 40);
        const kind: Kind = p.chance(0.5) ? 'array' : 'object';
        // Within the limit the schema judges: a field that takes any object (tracing) takes a nested one too.
        const fields = tooDeep ? v.fields : v.fields.filter((f) => !f.accepts.includes(kind) || f.strict);
        if (!fields.length) return this.#mutated(type, 'wrong_type');
        const field = p.one(fields);
        const deep = kind === 'array' ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
        setAt(event, field.path, DEEP_SLOT);
        const text = JSON.stringify(event).replace(JSON.stringify(DEEP_SLOT), deep);
        if (tooLarge(text)) return emit(text, answer({ all: [E('message_too_large')] }), true);
        // Deeper than the limit: refused at the edge, naming the top-level field, before any session.update applies.
        if (tooDeep) return emit(text, refused(String(field.path[0])));
        return emit(text, refusedAt(field.path));
      }
      case 'odd_numbers': {
        const fields = v.fields.filter((f) => f.accepts.includes('integer') || f.accepts.includes('number'));
        if (!fields.length) return this.#mutated(type, 'wrong_type');
        const field = p.one(fields);
        // JSON.parse makes Infinity of 1e999; huge, negative and fractional values break every bound here.
        const raw = p.one(['1e999', '-1e999', '-1', '-0.5', '1.5', '123456789012345678901234567890', '9007199254740993', '-0', '1e-400']);
        setAt(event, field.path, RAW_SLOT);
        const text = JSON.stringify(event).replace(JSON.stringify(RAW_SLOT), raw);
        const value = JSON.parse(raw) as number;
        // Some odd numbers are still in range for some fields (-0 is an integer ≥ 0): only out-of-range ones are refused.
        const ok = fieldTakes(field, value);
        if (ok) return emit(text, v.expect);
        return emit(text, refusedAt(field.path));
      }
      case 'bad_event_id': {
        const kind = p.one(['number', 'object', 'long', 'odd', 'null']);
        if (kind === 'long') {
          event.event_id = `${this.#id()}-${'x'.repeat(p.int(129, 4000))}`;
          return emit(JSON.stringify(event), refused('event_id'));
        }
        if (kind === 'odd') {
          // Spaces, NUL, an emoji: still a string id (kept unique), so answered as the event would be.
          event.event_id = ` ${this.#id()}\u0000😀 `;
          return emit(JSON.stringify(event), v.expect);
        }
        event.event_id = kind === 'number' ? 12345 : kind === 'object' ? { id: 1 } : null;
        return emit(JSON.stringify(event), refused('event_id'));
      }
      case 'type_confusion': {
        const kind = p.one(['missing', 'number', 'case', 'unknown', 'duplicate', 'padded', 'prototype']);
        if (kind === 'missing') {
          delete event.type;
          return emit(JSON.stringify(event), answer({ all: [E('missing_type')] }));
        }
        if (kind === 'number') {
          event.type = p.one([1, true, null, ['x'], { t: 1 }] as Json[]);
          return emit(JSON.stringify(event), answer({ all: [E('missing_type')] }));
        }
        if (kind === 'duplicate') {
          // The last of two 'type' keys wins in JSON.parse: here an unknown one.
          return emit(`${JSON.stringify(event).slice(0, -1)},"type":"session.explode"}`, answer({ all: [E('unknown_event_type')] }));
        }
        event.type = kind === 'case' ? type.toUpperCase() : kind === 'padded' ? ` ${type}` : kind === 'prototype' ? p.one(['__proto__', 'constructor', 'toString', 'hasOwnProperty']) : `${type}.${p.word()}`;
        return emit(JSON.stringify(event), answer({ all: [E('unknown_event_type')] }));
      }
      case 'base64_garbage':
        return this.#base64Garbage(type);
      case 'unicode': {
        // Lone surrogates and escapes in every string field: valid JSON, so answered as the event would be.
        const strings = v.fields.filter((f) => f.accepts.includes('string') && !f.closed && f.path.at(-1) !== 'audio' && f.path.at(-1) !== 'image' && f.path.at(-1) !== 'image_url');
        if (!strings.length) return this.#valid(type);
        const field = p.one(strings);
        const current = getAt(event, field.path);
        // Ids stay as they are: other cases refer to them.
        if (typeof current !== 'string' || /(^|_)id$/.test(String(field.path.at(-1)))) return this.#valid(type);
        setAt(event, field.path, RAW_SLOT);
        const text = JSON.stringify(event).replace(JSON.stringify(RAW_SLOT), `"${p.one(['\\ud800', '\\udfff', '\\ud83d', 'a\\u0000b', '\\u202e\\u200f', '\\ud83d\\ude00'])}${p.word(1, 8)}"`);
        return emit(text, v.expect);
      }
    }
    return this.#valid(type);
  }

  #base64Garbage(type: EventType): FuzzCase {
    const p = this.#pick;
    const garbage = p.one(['not base64!!', 'AAA', 'A===', '====', 'AA AA', 'AA\nAA', '-_-_', 'QUJD\u0000', 'QUJD=A==', `${'A'.repeat(6)}*`, 'ZZZZ=']);
    const id = this.#id();
    if (type === 'omnilive.video_frame.append' || p.chance(0.3)) {
      if (p.chance(0.5)) {
        const event = { type: 'omnilive.video_frame.append', event_id: id, image: garbage };
        // Not base64 at all: refused before any decoding.
        return this.#case('base64_garbage', 'omnilive.video_frame.append', JSON.stringify(event), answer({ all: [E('invalid_base64')], param: 'image' }), id);
      }
      // Valid base64 of bytes that are no image: refused when it fails to decode.
      const event = { type: 'omnilive.video_frame.append', event_id: id, image: p.bytes(p.int(1, 64) * 3).toString('base64') };
      return this.#case('base64_garbage', 'omnilive.video_frame.append', JSON.stringify(event), answer({ all: [E('invalid_image')], async: true, param: 'image' }), id);
    }
    if (p.chance(0.3)) {
      // Valid base64, an odd number of pcm16 bytes.
      const event = { type: 'input_audio_buffer.append', event_id: id, audio: p.bytes(p.int(0, 40) * 2 + 1).toString('base64') };
      return this.#case('base64_garbage', 'input_audio_buffer.append', JSON.stringify(event), answer({ all: [E('invalid_audio')], param: 'audio' }), id);
    }
    const event = { type: 'input_audio_buffer.append', event_id: id, audio: garbage };
    return this.#case('base64_garbage', 'input_audio_buffer.append', JSON.stringify(event), answer({ all: [E('invalid_base64')], param: 'audio' }), id);
  }

  /** A value of a JSON type the field does not take (undefined when it takes them all). */
  #wrongValue(field: Field): Json | undefined {
    const p = this.#pick;
    const samples: Record<Kind, () => Json> = {
      string: () => p.word(),
      integer: () => p.int(-5, 100),
      number: () => p.int(-5, 5) + 0.25,
      boolean: () => p.chance(0.5),
      null: () => null,
      object: () => ({ [p.word()]: p.int(0, 9) }),
      array: () => [p.word(), p.int(0, 9)],
    };
    const taken = (k: Kind) => field.accepts.includes(k) || (k === 'integer' && field.accepts.includes('number'));
    const wrong = (Object.keys(samples) as Kind[]).filter((k) => !taken(k));
    // A closed string field (enum, literal, pattern) refuses strings that are not among its values.
    if (field.closed) wrong.push('string');
    if (!wrong.length) return undefined;
    const kind = p.one(wrong);
    if (kind === 'string' && field.closed) return `${p.word()}?`;
    return samples[kind]();
  }

  // ---- valid events ----

  #build(type: EventType): Valid {
    const p = this.#pick;
    const id = this.#id();
    const known = this.#known;
    const webrtcOff = !this.#options.webrtc;
    const itemRef = () => (known.items.length && p.chance(0.7) ? p.one(known.items) : `${this.#options.prefix}_gone_${p.int(0, 999)}`);
    // A peer closes with its session only, so webrtc_closed is possible but not expected here.
    const signalling = (expect: Partial<Expectation>): Expectation => (webrtcOff ? answer({ all: [E('webrtc_unavailable')] }) : answer({ async: true, ...expect, may: [E('webrtc_closed')] }));
    const eventId: Field = { path: ['event_id'], accepts: ['string'], max: 128 };
    const transportId: Field = { path: ['transport_id'], accepts: ['string'], required: true, max: 64 };
    switch (type) {
      case 'session.update': {
        const { session, fields } = this.#sessionPatch();
        return {
          event: { type, event_id: id, session },
          // Only fields the session honours or accepts: no error.
          expect: answer({ all: ['session.updated'] }),
          fields: [eventId, { path: ['session'], accepts: ['object'], strict: true }, ...fields.map((f) => ({ ...f, path: ['session', ...f.path] }))],
        };
      }
      case 'input_audio_buffer.append': {
        // Mostly quiet audio, now and then noise loud enough for the VAD: 10–60 ms at 24 kHz.
        const samples = p.int(1, 6) * 240;
        const pcm = Buffer.alloc(samples * 2);
        const loud = p.chance(0.1);
        for (let i = 0; i < samples; i++) pcm.writeInt16LE(loud ? p.int(-12000, 12000) : p.int(-40, 40), i * 2);
        return {
          event: { type, event_id: id, audio: pcm.toString('base64') },
          expect: answer({ may: [E('input_audio_rate_exceeded')] }),
          fields: [eventId, { path: ['audio'], accepts: ['string'], required: true }],
        };
      }
      case 'input_audio_buffer.commit':
        return { event: { type, event_id: id }, expect: answer({ any: ['input_audio_buffer.committed', E('input_audio_buffer_commit_empty')], async: true }), fields: [eventId] };
      case 'input_audio_buffer.clear':
        return { event: { type, event_id: id }, expect: answer({ all: ['input_audio_buffer.cleared'], async: true }), fields: [eventId] };
      case 'conversation.item.create':
        return this.#itemCreate(id, eventId);
      case 'conversation.item.retrieve':
        return {
          event: { type, event_id: id, item_id: itemRef() },
          expect: answer({ any: ['conversation.item.retrieved', E('item_not_found')] }),
          fields: [eventId, { path: ['item_id'], accepts: ['string'], required: true, max: 64 }],
        };
      case 'conversation.item.truncate':
        return {
          event: { type, event_id: id, item_id: itemRef(), content_index: p.chance(0.8) ? 0 : p.int(1, 3), audio_end_ms: p.int(0, 5000) },
          expect: answer({ any: ['conversation.item.truncated', E('item_not_found'), E('invalid_value')] }),
          fields: [eventId, { path: ['item_id'], accepts: ['string'], required: true, max: 64 }, { path: ['content_index'], accepts: ['integer'], required: true }, { path: ['audio_end_ms'], accepts: ['integer'], required: true }],
        };
      case 'conversation.item.delete':
        return {
          event: { type, event_id: id, item_id: itemRef() },
          expect: answer({ any: ['conversation.item.deleted', E('item_not_found'), E('invalid_value')] }),
          fields: [eventId, { path: ['item_id'], accepts: ['string'], required: true, max: 64 }],
        };
      case 'output_audio_buffer.clear':
        // Nothing to clear over a WebSocket; over WebRTC it silences the voice track: no answer either way.
        return { event: { type, event_id: id }, expect: answer({}), fields: [eventId] };
      case 'response.create': {
        const response: JsonObject = {};
        const fields: Field[] = [eventId, { path: ['response'], accepts: ['object'], strict: true }];
        // Text answers mostly: speech synthesis is the costly part and not what is fuzzed here.
        response.output_modalities = p.chance(0.85) ? ['text'] : ['text', 'audio'];
        fields.push({ path: ['response', 'output_modalities'], accepts: ['array'], max: 2 }, { path: ['response', 'output_modalities', 0], accepts: ['string'], closed: true });
        if (p.chance(0.3)) (response.instructions = p.text()), fields.push({ path: ['response', 'instructions'], accepts: ['string'], max: 32_000 });
        if (p.chance(0.3)) (response.max_output_tokens = p.int(1, 64)), fields.push({ path: ['response', 'max_output_tokens'], accepts: ['integer'] });
        if (p.chance(0.2)) (response.metadata = { topic: p.word() }), fields.push({ path: ['response', 'metadata'], accepts: ['object'] }, { path: ['response', 'metadata', 'topic'], accepts: ['string'], max: 512 });
        if (p.chance(0.15)) (response.conversation = 'none'), fields.push({ path: ['response', 'conversation'], accepts: ['string'], closed: true });
        const refs = p.chance(0.15);
        if (refs) (response.input = [{ type: 'item_reference', id: itemRef() }]), fields.push({ path: ['response', 'input'], accepts: ['array'], max: 64 }, { path: ['response', 'input', 0, 'id'], accepts: ['string'], max: 64 });
        if (p.chance(0.1)) (response.tool_choice = p.one(['auto', 'none'])), fields.push({ path: ['response', 'tool_choice'], accepts: ['string', 'object'], closed: true });
        return {
          event: { type, event_id: id, response },
          expect: answer({ any: ['response.created', E('conversation_already_has_active_response'), ...(refs ? [E('item_not_found')] : [])] }),
          fields,
        };
      }
      case 'response.cancel': {
        const bogus = p.chance(0.5);
        const event: JsonObject = { type, event_id: id };
        if (bogus) event.response_id = `resp_${p.word(8, 8)}`;
        // A response id that is not the active one is refused whatever the state; without one, the answer in flight ends.
        return { event, expect: bogus ? answer({ all: [E('response_cancel_not_active')] }) : answer({ any: ['response.done', E('response_cancel_not_active')] }), fields: [eventId, { path: ['response_id'], accepts: ['string'] }] };
      }
      case 'omnilive.memory.search':
        return {
          event: { type, event_id: id, query: p.text(1, 60), limit: p.int(1, 50) },
          // The fuzz servers run without long-term memory.
          expect: answer({ all: [E('memory_unavailable')], async: true }),
          fields: [eventId, { path: ['query'], accepts: ['string'], required: true, max: 2000 }, { path: ['limit'], accepts: ['integer'] }],
        };
      case 'omnilive.watch.create': {
        const condition = p.one(['"EXIT" appears on screen', 'someone says "fuzz"', 'a dog appears', 'an alarm sounds', p.text(1, 80)]);
        const event: JsonObject = { type, event_id: id, condition, mode: p.one(['once', 'every']) };
        if (p.chance(0.5)) event.cooldown_ms = p.int(1000, 100_000);
        if (p.chance(0.5)) event.expires_in_ms = p.int(1000, 100_000);
        return {
          event,
          expect: answer({ any: ['omnilive.watch.created', E('watch_condition_unsupported'), E('watch_limit_reached'), E('invalid_value')], async: true }),
          fields: [
            eventId,
            { path: ['condition'], accepts: ['string'], required: true, max: 500 },
            { path: ['mode'], accepts: ['string'], closed: true },
            ...(event.cooldown_ms !== undefined ? [{ path: ['cooldown_ms'], accepts: ['integer'] as Kind[] }] : []),
            ...(event.expires_in_ms !== undefined ? [{ path: ['expires_in_ms'], accepts: ['integer'] as Kind[] }] : []),
          ],
        };
      }
      case 'omnilive.watch.list':
        return { event: { type, event_id: id }, expect: answer({ all: ['omnilive.watch.listed'], async: true }), fields: [eventId] };
      case 'omnilive.watch.delete':
        return {
          event: { type, event_id: id, watch_id: `watch_${p.word(6, 10)}` },
          expect: answer({ any: ['omnilive.watch.deleted', E('watch_not_found')], async: true }),
          fields: [eventId, { path: ['watch_id'], accepts: ['string'], required: true, max: 128 }],
        };
      case 'omnilive.video_frame.append': {
        const event: JsonObject = { type, event_id: id, image: p.one(this.#png) };
        if (p.chance(0.5)) event.t = p.int(0, 100_000);
        return {
          event,
          // The fuzz servers run without vision: a frame that decodes is refused as unavailable.
          expect: answer({ any: [E('video_unavailable'), E('invalid_value')], async: true }),
          fields: [eventId, { path: ['image'], accepts: ['string'], required: true }, ...(event.t !== undefined ? [{ path: ['t'], accepts: ['number'] as Kind[] }] : [])],
        };
      }
      case 'omnilive.webrtc.join':
        return { event: { type, event_id: id }, expect: signalling({ any: ['omnilive.webrtc.joined'] }), fields: [eventId] };
      case 'omnilive.webrtc.transport.create':
        return { event: { type, event_id: id }, expect: signalling({ any: ['omnilive.webrtc.transport.created', E('webrtc_not_joined'), E('webrtc_too_many_transports')] }), fields: [eventId] };
      case 'omnilive.webrtc.transport.connect': {
        const fingerprints = Array.from({ length: p.int(1, 3) }, () => ({ algorithm: p.one(['sha-256', 'sha-1', 'sha-512', 'SHA-256', 'md5', 'sha-999', '']), value: this.#fingerprint() }));
        const dtls: JsonObject = { fingerprints };
        if (p.chance(0.7)) dtls.role = p.one(['auto', 'client', 'server']);
        return {
          event: { type, event_id: id, transport_id: this.#transportRef(), dtls_parameters: dtls },
          expect: signalling({ any: ['omnilive.webrtc.transport.connected', E('webrtc_unknown_transport'), E('webrtc_already_connected'), E('invalid_value')] }),
          fields: [
            eventId,
            transportId,
            { path: ['dtls_parameters'], accepts: ['object'], required: true, strict: true },
            { path: ['dtls_parameters', 'fingerprints'], accepts: ['array'], required: true, max: 8 },
            { path: ['dtls_parameters', 'fingerprints', 0], accepts: ['object'], strict: true },
            { path: ['dtls_parameters', 'fingerprints', 0, 'algorithm'], accepts: ['string'], required: true, max: 32 },
            { path: ['dtls_parameters', 'fingerprints', 0, 'value'], accepts: ['string'], required: true, max: 256 },
          ],
        };
      }
      case 'omnilive.webrtc.produce': {
        const kind = p.one(['audio', 'video']);
        return {
          event: { type, event_id: id, transport_id: this.#transportRef(), kind, rtp_parameters: this.#rtpParameters(kind) },
          expect: signalling({ any: ['omnilive.webrtc.produced', E('webrtc_unknown_transport'), E('webrtc_already_producing'), E('invalid_value'), E('webrtc_not_joined')] }),
          fields: [
            eventId,
            transportId,
            { path: ['kind'], accepts: ['string'], required: true, closed: true },
            { path: ['rtp_parameters'], accepts: ['object'], required: true, strict: true },
            { path: ['rtp_parameters', 'codecs'], accepts: ['array'], required: true, max: 16 },
            { path: ['rtp_parameters', 'codecs', 0, 'mimeType'], accepts: ['string'], required: true, max: 64 },
            { path: ['rtp_parameters', 'codecs', 0, 'payloadType'], accepts: ['integer'], required: true },
            { path: ['rtp_parameters', 'codecs', 0, 'clockRate'], accepts: ['integer'], required: true },
            { path: ['rtp_parameters', 'encodings'], accepts: ['array'], max: 8 },
          ],
        };
      }
      case 'omnilive.webrtc.consume': {
        const caps = p.chance(0.5) ? { codecs: [{ ...OPUS_CAPS }] } : { codecs: [{ mimeType: p.one(['video/VP8', 'audio/PCMU', 'audio/bogus']), kind: p.one(['audio', 'video']), clockRate: p.one([8000, 90000, 48000]), preferredPayloadType: p.int(0, 127) }] };
        return {
          event: { type, event_id: id, transport_id: this.#transportRef(), rtp_capabilities: caps },
          expect: signalling({ any: ['omnilive.webrtc.consumed', E('webrtc_not_joined'), E('webrtc_unknown_transport'), E('invalid_value')] }),
          fields: [
            eventId,
            transportId,
            { path: ['rtp_capabilities'], accepts: ['object'], required: true, strict: true },
            { path: ['rtp_capabilities', 'codecs'], accepts: ['array'], required: true, max: 64 },
            { path: ['rtp_capabilities', 'codecs', 0, 'kind'], accepts: ['string'], required: true, closed: true },
          ],
        };
      }
      case 'omnilive.webrtc.leave':
        return { event: { type, event_id: id }, expect: signalling({ all: ['omnilive.webrtc.left'] }), fields: [eventId] };
    }
  }

  /** A live transport's id most of the time (filled in at send time), else a made-up one. */
  #transportRef(): string {
    return this.#pick.chance(0.75) ? TRANSPORT_SLOT : this.#pick.one(['tr_nope', '00000000-0000-0000-0000-000000000000', this.#pick.word(1, 64)]);
  }

  #fingerprint(): string {
    const p = this.#pick;
    const kind = p.one(['hex', 'short', 'junk', 'empty']);
    if (kind === 'empty') return '';
    if (kind === 'junk') return p.text(1, 100).slice(0, 256);
    const n = kind === 'hex' ? p.one([16, 20, 32, 64]) : p.int(1, 5);
    return Array.from({ length: n }, () => p.int(0, 255).toString(16).padStart(2, '0').toUpperCase()).join(':');
  }

  /** RTP parameters that pass the edge schema and are wrong for mediasoup in some way (now and then right). */
  #rtpParameters(kind: string): JsonObject {
    const p = this.#pick;
    const codec: JsonObject = {
      mimeType: p.one(kind === 'audio' ? ['audio/opus', 'audio/OPUS', 'audio/bogus', 'audio/PCMU', 'video/VP8', ''] : ['video/VP8', 'video/H264', 'video/H265', 'video/rtx', 'audio/opus', 'x']),
      payloadType: p.int(0, 127),
      clockRate: p.one([48000, 90000, 8000, 1, 2 ** 31 - 1]),
    };
    if (p.chance(0.5)) codec.channels = p.one([0, 1, 2, 255, -1] as Json[]);
    if (p.chance(0.4)) codec.parameters = p.one([{ apt: p.int(0, 200) }, { 'packetization-mode': 'x' }, { useinbandfec: 1 }, { '': null }] as Json[]);
    if (p.chance(0.3)) codec.rtcpFeedback = p.one([[{ type: 'nack' }], [{ type: 7 }], 'nack', [{ parameter: 'pli' }]] as Json[]);
    const params: JsonObject = { codecs: p.chance(0.2) ? [codec, { ...codec, payloadType: codec.payloadType }] : [codec] };
    if (p.chance(0.7)) params.encodings = p.one([[{ ssrc: p.int(1, 2 ** 31) }], [{ ssrc: -5 }], [{ ssrc: 'x' }], [{ rid: 'r0' }, { rid: 'r0' }], [{ maxBitrate: -1 }], [{}], []] as Json[]);
    if (p.chance(0.4)) params.headerExtensions = p.one([[{ uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 1 }], [{ uri: 5, id: 'x' }], [{ id: 300 }], [{ uri: '', id: -1, encrypt: 'yes' }]] as Json[]);
    if (p.chance(0.4)) params.rtcp = p.one([{ cname: 'fuzz' }, { cname: 7 }, { reducedSize: 'no' }, { mux: false }] as Json[]);
    if (p.chance(0.3)) params.mid = p.one(['0', '', 'x'.repeat(32)]);
    return params;
  }

  /** A session patch of a few valid fields, and the fields a mutation may break. */
  #sessionPatch(): { session: JsonObject; fields: Field[] } {
    const p = this.#pick;
    const session: JsonObject = {};
    const fields: Field[] = [];
    const add = (path: string[], value: Json, field: Omit<Field, 'path'>) => {
      setAt(session, path, value);
      fields.push({ path, ...field });
    };
    // Input format and clock stay as they are: other cases' answers depend on them (odd pcm16 bytes, live pacing).
    if (p.chance(0.5)) add(['instructions'], p.text(0, 200), { accepts: ['string'], max: 32_000 });
    if (p.chance(0.3)) add(['output_modalities'], p.chance(0.8) ? ['text'] : ['text', 'audio'], { accepts: ['array'], max: 2 });
    if (p.chance(0.2)) add(['audio', 'output', 'voice'], p.one(['slt', 'awb', 'rms', 'kal']), { accepts: ['string'], max: 64, closed: true });
    if (p.chance(0.2)) add(['audio', 'input', 'turn_detection'], p.chance(0.3) ? null : { type: 'server_vad', threshold: p.int(3, 9) / 10, silence_duration_ms: p.int(200, 800) }, { accepts: ['object', 'null'], strict: true });
    if (p.chance(0.2)) add(['tools'], [{ type: 'function', name: `tool_${p.word(1, 8)}`, description: p.text(0, 60), parameters: { type: 'object', properties: { q: { type: 'string' } } } }], { accepts: ['array'], max: 128 });
    if (p.chance(0.15)) add(['tool_choice'], p.one(['auto', 'none', 'required']), { accepts: ['string', 'object'], closed: true });
    if (p.chance(0.15)) add(['max_output_tokens'], p.chance(0.2) ? 'inf' : p.int(1, 4096), { accepts: ['integer', 'string'], closed: true });
    if (p.chance(0.1)) add(['parallel_tool_calls'], p.chance(0.5), { accepts: ['boolean'] });
    if (p.chance(0.1)) add(['omnilive', 'video_fps'], p.one([0.5, 1, 2]), { accepts: ['number'] });
    if (p.chance(0.1)) add(['omnilive', 'instruction_filter'], p.one(['off', 'rules']), { accepts: ['string'], closed: true });
    if (p.chance(0.1)) add(['tracing'], null, { accepts: ['null', 'object', 'string'], closed: true });
    if (p.chance(0.1)) add(['truncation'], 'auto', { accepts: ['string', 'object'], closed: true });
    if (p.chance(0.1)) add(['model'], p.word(), { accepts: ['string'], max: 200 });
    if (Object.keys(session).length === 0) add(['instructions'], p.text(0, 40), { accepts: ['string'], max: 32_000 });
    return { session, fields };
  }

  #itemCreate(id: string, eventId: Field): Valid {
    const p = this.#pick;
    const known = this.#known;
    const type = 'conversation.item.create';
    const itemId = p.chance(0.6) ? `${this.#options.prefix}_item_${this.#n}` : undefined;
    const kind = p.weighted<string>([['user', 6], ['assistant', 2], ['system', 1], ['image', 1], ['audio_transcript', 1], ['function_call', 1], ['function_call_output', 1]]);
    let item: JsonObject;
    const fields: Field[] = [eventId, { path: ['item'], accepts: ['object'], required: true, strict: true }, { path: ['item', 'type'], accepts: ['string'], required: true, closed: true }];
    const may: string[] = [];
    let answerAs: string[] | undefined;
    let refusedCall = false;
    if (kind === 'function_call') {
      const callId = `call_${this.#n}`;
      item = { type: 'function_call', call_id: callId, name: `fn_${p.word(1, 6)}`, arguments: JSON.stringify({ q: p.word() }) };
      fields.push({ path: ['item', 'call_id'], accepts: ['string'], required: true, max: 128 }, { path: ['item', 'name'], accepts: ['string'], required: true, max: 64 }, { path: ['item', 'arguments'], accepts: ['string'], required: true, max: 200_000 });
    } else if (kind === 'function_call_output') {
      const made = known.calls.length > 0 && p.chance(0.7);
      item = { type: 'function_call_output', call_id: made ? p.one(known.calls) : `call_none_${p.int(0, 99)}`, output: p.text(0, 80) };
      // Its call must be in the conversation: a made-up one never is, a made one may have been deleted.
      answerAs = made ? [E('invalid_value')] : undefined;
      if (!made) refusedCall = true;
      fields.push({ path: ['item', 'call_id'], accepts: ['string'], required: true, max: 128 }, { path: ['item', 'output'], accepts: ['string'], required: true, max: 200_000 });
    } else {
      const role = kind === 'assistant' ? 'assistant' : kind === 'system' ? 'system' : 'user';
      const part: JsonObject =
        kind === 'image'
          ? { type: 'input_image', image_url: `data:image/png;base64,${p.one(this.#png)}` }
          : kind === 'audio_transcript'
            ? { type: 'input_audio', transcript: p.text(1, 40) }
            : { type: role === 'assistant' ? 'output_text' : 'input_text', text: p.text(1, 120) };
      item = { type: 'message', role, content: [part] };
      fields.push(
        { path: ['item', 'role'], accepts: ['string'], required: true, closed: true },
        { path: ['item', 'content'], accepts: ['array'], required: true, max: 16 },
        { path: ['item', 'content', 0], accepts: ['object'], required: true, strict: true },
        { path: ['item', 'content', 0, 'type'], accepts: ['string'], required: true, closed: true },
      );
      const textKey = part.type === 'input_image' ? 'image_url' : part.type === 'input_audio' ? 'transcript' : 'text';
      fields.push({ path: ['item', 'content', 0, textKey], accepts: textKey === 'transcript' ? ['string', 'null'] : ['string'], required: textKey !== 'transcript', ...(textKey === 'image_url' ? { closed: true } : { max: 32_000 }) });
    }
    if (itemId) {
      item.id = itemId;
      fields.push({ path: ['item', 'id'], accepts: ['string'], max: 64 });
    }
    const event: JsonObject = { type, event_id: id, item };
    const any = ['conversation.item.added'];
    // Some ids come back (taken), some places are gone (deleted items).
    if (itemId && known.items.length && p.chance(0.1)) item.id = p.one(known.items);
    if (typeof item.id === 'string' && known.items.includes(item.id)) any.push(E('item_id_taken'));
    if (p.chance(0.2)) {
      const prev = p.one<Json>([null, 'root', ...(known.items.length ? [p.one(known.items)] : []), `${this.#options.prefix}_nowhere`]);
      event.previous_item_id = prev;
      fields.push({ path: ['previous_item_id'], accepts: ['string', 'null'] });
      if (typeof prev === 'string' && prev !== 'root') any.push(E('item_not_found'));
    }
    if (refusedCall) return { event, expect: answer({ all: [E('invalid_value')], any: [], may: [E('item_id_taken'), E('item_not_found')] }), fields };
    return { event, expect: answer({ any: [...any, ...(answerAs ?? [])], may }), fields };
  }

  // ---- out-of-order sequences ----

  #sequence(): FuzzCase[] {
    const p = this.#pick;
    const webrtc = this.#options.webrtc;
    const kind = p.one(['commit_empty', 'cancel_nothing', 'truncate_unknown', 'delete_twice', 'append_after_clear', 'webrtc_before_join', 'webrtc_bogus', 'webrtc_twice', 'response_twice']);
    const seq: FuzzCase[] = [];
    const push = (type: EventType, patch: (v: Valid) => void = () => {}) => seq.push(this.#valid(type, patch));
    switch (kind) {
      case 'commit_empty':
        // Cleared, then committed: nothing to commit.
        push('input_audio_buffer.clear');
        push('input_audio_buffer.commit', (v) => (v.expect = answer({ all: [E('input_audio_buffer_commit_empty')], async: true })));
        break;
      case 'cancel_nothing':
        push('response.cancel', (v) => {
          v.event.response_id = 'resp_never_made';
          v.expect = answer({ all: [E('response_cancel_not_active')] });
        });
        break;
      case 'truncate_unknown':
        push('conversation.item.truncate', (v) => {
          v.event.item_id = `${this.#options.prefix}_unknown_${this.#n}`;
          v.expect = answer({ all: [E('item_not_found')] });
        });
        break;
      case 'delete_twice': {
        const itemId = `${this.#options.prefix}_item_${this.#n}_del`;
        push('conversation.item.create', (v) => {
          v.event.item = { type: 'message', id: itemId, role: 'user', content: [{ type: 'input_text', text: 'delete me' }] };
          delete v.event.previous_item_id;
          v.expect = answer({ all: ['conversation.item.added'] });
        });
        push('conversation.item.delete', (v) => ((v.event.item_id = itemId), (v.expect = answer({ all: ['conversation.item.deleted'] }))));
        push('conversation.item.delete', (v) => ((v.event.item_id = itemId), (v.expect = answer({ all: [E('item_not_found')] }))));
        push('conversation.item.retrieve', (v) => ((v.event.item_id = itemId), (v.expect = answer({ all: [E('item_not_found')] }))));
        break;
      }
      case 'append_after_clear':
        push('input_audio_buffer.append');
        push('input_audio_buffer.clear');
        push('input_audio_buffer.append');
        break;
      case 'webrtc_before_join':
        // Each of these needs a router first; after a leave there is none.
        push('omnilive.webrtc.leave');
        if (webrtc) {
          push('omnilive.webrtc.transport.create', (v) => (v.expect = answer({ all: [E('webrtc_not_joined')], async: true })));
          push('omnilive.webrtc.consume', (v) => (v.expect = answer({ all: [E('webrtc_not_joined')], async: true })));
          push('omnilive.webrtc.transport.connect', (v) => ((v.event.transport_id = 'tr_before_create'), (v.expect = answer({ all: [E('webrtc_unknown_transport')], async: true }))));
          push('omnilive.webrtc.produce', (v) => ((v.event.transport_id = 'tr_before_create'), (v.expect = answer({ all: [E('webrtc_unknown_transport')], async: true }))));
        } else {
          push('omnilive.webrtc.transport.create');
          push('omnilive.webrtc.produce');
        }
        break;
      case 'webrtc_bogus':
        push('omnilive.webrtc.join');
        push('omnilive.webrtc.transport.create');
        push('omnilive.webrtc.transport.connect', (v) => (v.event.transport_id = TRANSPORT_SLOT));
        push('omnilive.webrtc.produce', (v) => (v.event.transport_id = TRANSPORT_SLOT));
        push('omnilive.webrtc.consume', (v) => (v.event.transport_id = TRANSPORT_SLOT));
        break;
      case 'webrtc_twice':
        push('omnilive.webrtc.join');
        push('omnilive.webrtc.join');
        push('omnilive.webrtc.leave');
        push('omnilive.webrtc.leave');
        break;
      case 'response_twice':
        push('response.create', (v) => (v.event.response = { output_modalities: ['text'], max_output_tokens: 16 }));
        push('response.create', (v) => (v.event.response = { output_modalities: ['text'], max_output_tokens: 16 }));
        push('response.cancel', (v) => (delete v.event.response_id, (v.expect = answer({ any: ['response.done', E('response_cancel_not_active')] }))));
        break;
    }
    for (const c of seq) c.family = `sequence:${kind}`;
    return seq;
  }
}

// ---- JSON paths ----

const DEEP_SLOT = '$DEEP$';
const RAW_SLOT = '$RAW$';
const UNKNOWN_SLOT = '$UNKNOWN$';

function isObject(x: Json | undefined): x is JsonObject {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** The `event_id` the server will read: a string one, unless a slot stands there for raw text. */
function readableId(value: Json | undefined): string | undefined {
  return typeof value === 'string' && value !== DEEP_SLOT && value !== RAW_SLOT ? value : undefined;
}

function getAt(o: Json, path: (string | number)[]): Json | undefined {
  let at: Json | undefined = o;
  for (const key of path) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<string, Json>)[key as string];
  }
  return at;
}

function setAt(o: JsonObject, path: (string | number)[], value: Json): void {
  let at: Json = o;
  for (const [i, key] of path.entries()) {
    const record = at as Record<string, Json>;
    if (i === path.length - 1) {
      record[key as string] = value;
      return;
    }
    if (typeof record[key as string] !== 'object' || record[key as string] === null) record[key as string] = typeof path[i + 1] === 'number' ? [] : {};
    at = record[key as string]!;
  }
}

function deleteAt(o: JsonObject, path: (string | number)[]): void {
  const parent = getAt(o, path.slice(0, -1));
  if (typeof parent !== 'object' || parent === null) return;
  if (Array.isArray(parent)) parent.splice(Number(path.at(-1)), 1);
  else delete (parent as Record<string, Json>)[path.at(-1) as string];
}

/** Whether an odd number is still one the field takes (then the case is answered as valid). */
function fieldTakes(field: Field, value: number): boolean {
  if (!Number.isFinite(value)) return false;
  const name = String(field.path.at(-1));
  const integer = field.accepts.includes('integer') && !field.accepts.includes('number');
  if (integer && !Number.isInteger(value)) return false;
  // Bounds of the numeric fields the templates use (client-events.ts).
  const bounds: Record<string, [number, number]> = {
    content_index: [0, Infinity],
    audio_end_ms: [0, Infinity],
    limit: [1, 50],
    cooldown_ms: [1000, 7 * 24 * 3600 * 1000],
    expires_in_ms: [1000, 365 * 24 * 3600 * 1000],
    t: [0, Infinity],
    payloadType: [0, 127],
    clockRate: [Number.MIN_VALUE, Infinity],
    max_output_tokens: [1, 32_768],
    video_fps: [0.1, 5],
  };
  const [min, max] = bounds[name] ?? [-Infinity, Infinity];
  if (integer && !Number.isSafeInteger(value)) return false;
  return value >= min && value <= max;
}

/**
 * Whether an error's `param` names the mutated field: the field itself, a parent (zod names
 * the union or object that failed) or a child (an unknown key inside it). No param: the event.
 */
export function namesField(param: string | null | undefined, path: string | undefined): boolean {
  if (path === undefined || !param) return true;
  return path === param || path.startsWith(`${param}.`) || param.startsWith(`${path}.`);
}
