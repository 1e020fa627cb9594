/**
 * Sends fuzz cases (fuzz-events.ts) over a real WebSocket and checks every answer: each case
 * gets what its Expectation says, and every `error` the server sends is one a case asked for
 * (an unexplained one, or a code outside DOCUMENTED_ERROR_CODES, fails). Cases go in windows: a window's cases are sent
 * back to back, then a barrier (a retrieve of an item that never exists, answered at once with
 * `item_not_found`); a case's synchronous answers must come before its window's barrier does.
 * Window 1 is lock-step (the exact answer of each message), larger windows pipeline.
 */
import WebSocket from 'ws';
import { BARRIER_ITEM_ID, DOCUMENTED_ERROR_CODES, TRANSPORT_SLOT, namesField, type FuzzCase } from './fuzz-events.ts';

type AnyEvent = { type: string } & Record<string, any>;

/** Replies that name their request (`request_id` = the request's `event_id`). */
const REQUEST_REPLY = /^omnilive\.(webrtc|watch)\./;

/** What judging needs of an event: long storms keep hundreds of thousands of them. */
function compact(event: AnyEvent): AnyEvent {
  const { type, error, request_id, response, response_id } = event;
  const kept: AnyEvent = { type };
  if (error) kept.error = { code: error.code, event_id: error.event_id, param: error.param, message: String(error.message).slice(0, 200) };
  if (request_id !== undefined) kept.request_id = request_id;
  if (response_id !== undefined) kept.response_id = response_id;
  if (response && (type === 'response.created' || type === 'response.done')) kept.response = response;
  return kept;
}

/** One fuzzing connection: records what the server says, in order. */
export class FuzzSocket {
  readonly ws: WebSocket;
  readonly events: AnyEvent[] = [];
  readonly opened: Promise<void>;
  /** How the connection ended, once it has. */
  closed: { code: number; reason: string } | undefined;
  #transport: string | undefined;
  #barriers = 0;
  readonly #waiters = new Set<{ match: (e: AnyEvent) => boolean; resolve: (index: number) => void }>();

  constructor(port: number) {
    this.ws = new WebSocket(`ws://127.0.0.1:${port}/v1/realtime`);
    this.ws.on('message', (data) => {
      const event = JSON.parse(data.toString()) as AnyEvent;
      this.events.push(compact(event));
      if (event.type === 'omnilive.webrtc.transport.created') this.#transport = event.transport.id;
      for (const w of this.#waiters) if (w.match(event)) (this.#waiters.delete(w), w.resolve(this.events.length - 1));
    });
    this.ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }));
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('error', reject);
      void this.waitFor((e) => e.type === 'session.created').then(() => resolve(), reject);
    });
  }

  /** Resolves with the index of the first event from now on that matches. */
  waitFor(match: (e: AnyEvent) => boolean, timeoutMs = 20_000, what = 'an event'): Promise<number> {
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (index: number) => {
          clearTimeout(timer);
          resolve(index);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`no answer after ${timeoutMs} ms waiting for ${what}: the server hangs`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** Sends one case; a transport slot becomes the transport the server made last. */
  send(c: FuzzCase): void {
    const data = typeof c.data === 'string' && c.data.includes(TRANSPORT_SLOT) ? c.data.replaceAll(TRANSPORT_SLOT, this.#transport ?? 'tr_none_yet') : c.data;
    this.ws.send(data, { binary: c.binary });
  }

  sendEvent(event: object): void {
    this.ws.send(JSON.stringify(event));
  }

  /** Resolves with the index of the barrier's answer: everything sent before it has had its synchronous answers. */
  barrier(timeoutMs = 20_000): Promise<number> {
    const id = `barrier-${++this.#barriers}`;
    const answered = this.waitFor((e) => e.type === 'error' && e.error?.event_id === id, timeoutMs, `barrier ${id}`);
    this.sendEvent({ type: 'conversation.item.retrieve', event_id: id, item_id: BARRIER_ITEM_ID });
    return answered;
  }

  close(): void {
    this.ws.close();
  }
}

export interface TurnResult {
  status: string;
  /** The answer's words (text or audio transcript). */
  text: string;
  /** From response.create to response.done. */
  ms: number;
  /** How many times an answer already in flight had to be cancelled first. */
  retries: number;
}

/**
 * A plain typed turn: conversation.item.create with a question, then response.create (with
 * `response` as its options, if any), then its response.done. An answer still in flight (a turn
 * the storm's audio started) is cancelled first.
 */
export async function typedTurn(socket: FuzzSocket, question: string, options: { response?: object; timeoutMs?: number } = {}): Promise<TurnResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const tag = `turn-${socket.events.length}`;
  for (let attempt = 0; attempt < 5; attempt++) {
    socket.sendEvent({ type: 'response.cancel', event_id: `${tag}-cancel-${attempt}` });
    socket.sendEvent({ type: 'conversation.item.create', event_id: `${tag}-item-${attempt}`, item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: question }] } });
    const from = socket.events.length;
    const started = performance.now();
    // The metadata comes back in response.created: it tells this answer from one a turn of the storm's audio started.
    const mark = `${tag}-${attempt}`;
    socket.sendEvent({ type: 'response.create', event_id: `${tag}-response-${attempt}`, response: { ...options.response, metadata: { fuzz_turn: mark } } });
    const until = await socket.barrier();
    const window = socket.events.slice(from, until + 1);
    const refused = window.find((e) => e.type === 'error' && e.error.event_id === `${tag}-response-${attempt}`);
    if (refused?.error.code === 'conversation_already_has_active_response') continue;
    if (refused) throw new Error(`response.create refused: ${JSON.stringify(refused.error)}`);
    const created = window.find((e) => e.type === 'response.created' && e.response.metadata?.fuzz_turn === mark);
    if (!created) throw new Error('response.create got no response.created');
    // A text answer can be done before the barrier is answered.
    const seen = socket.events.findIndex((e, i) => i >= from && e.type === 'response.done' && e.response.id === created.response.id);
    const at =
      seen >= 0
        ? seen
        : await socket.waitFor((e) => e.type === 'response.done' && e.response.id === created.response.id, timeoutMs, `response.done of ${created.response.id}`).catch((error: Error) => {
            // Say what did come, for whoever reads the failure.
            const id = created.response.id;
            const ours = socket.events.slice(from).filter((e) => e.type === 'error' || e.response_id === id || e.response?.id === id);
            const said = ours.map((e) => (e.type === 'error' ? `error:${e.error.code}` : e.type)).join(', ');
            throw new Error(`${error.message}; since response.create: ${said} (${socket.events.length - from} events in all)`);
          });
    const done = socket.events[at]!.response;
    const text = (done.output as AnyEvent[]).flatMap((item) => (item.content ?? []) as AnyEvent[]).map((part) => part.text ?? part.transcript ?? '').join(' ').trim();
    return { status: done.status, text, ms: performance.now() - started, retries: attempt };
  }
  throw new Error('an answer stayed in flight through 5 cancels');
}

export interface StormOptions {
  /** Cases sent between two barriers. @defaultValue 1 (lock-step) */
  window?: number;
  /** How long late (async) answers may take after the last barrier. @defaultValue 15 000 ms */
  settleMs?: number;
  /** Called after each window (progress, memory samples). */
  onWindow?: (sent: number) => void;
  /** Awaited before each barrier, with the count sent so far: a caller keeping under the server's rate limit waits here. */
  pace?: (sent: number) => Promise<void>;
}

export interface StormResult {
  sent: number;
  ms: number;
  /** Problems, one line each: unanswered cases, wrong answers, unexplained errors. */
  failures: string[];
  errorsByCode: Record<string, number>;
  casesByFamily: Record<string, number>;
  casesByType: Record<string, number>;
}

/** A sent case as judging needs it: its frame is dropped (long storms send gigabytes), a preview kept. */
type Judged = Omit<FuzzCase, 'data'> & { preview: string };

interface Sent {
  c: Judged;
  /** Index of the first event that could answer it. */
  from: number;
  /** Index of its window's barrier answer: synchronous answers come before it. */
  until: number;
}

/** Sends `cases` (an array, or a generator making them as they go) over `socket` in windows and checks every answer. */
export async function runStorm(socket: FuzzSocket, cases: Iterable<FuzzCase>, options: StormOptions = {}): Promise<StormResult> {
  const window = options.window ?? 1;
  const started = performance.now();
  const sent: Sent[] = [];
  // Events this storm need not explain: barrier answers, and whatever came before it (an earlier storm, a turn).
  const excused = new Set<number>();
  const first = socket.events.length;
  const source = cases[Symbol.iterator]();
  for (;;) {
    const batch: Sent[] = [];
    while (batch.length < window) {
      const next = source.next();
      if (next.done) break;
      const { data, ...c } = next.value;
      batch.push({ c: { ...c, preview: typeof data === 'string' ? data.slice(0, 160) : `<${data.length} binary bytes>` }, from: socket.events.length, until: Infinity });
      socket.send(next.value);
    }
    if (!batch.length) break;
    await options.pace?.(sent.length + batch.length);
    const at = await socket.barrier();
    excused.add(at);
    for (const s of batch) s.until = s.c.expect.async ? Infinity : at;
    sent.push(...batch);
    options.onWindow?.(sent.length);
  }
  const ms = performance.now() - started;
  // Late answers: wait until every async case is answered (or settleMs passes), then judge all.
  const deadline = performance.now() + (options.settleMs ?? 15_000);
  let verdict = judge(socket.events, first, sent, excused);
  while (verdict.lateMissing > 0 && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    verdict = judge(socket.events, first, sent, excused);
  }
  const count = (keys: string[]) => keys.reduce<Record<string, number>>((m, k) => ((m[k] = (m[k] ?? 0) + 1), m), {});
  return {
    sent: sent.length,
    ms,
    failures: verdict.failures,
    errorsByCode: count(socket.events.slice(first).filter((e, i) => e.type === 'error' && !excused.has(first + i)).map((e) => String(e.error?.code))),
    casesByFamily: count(sent.map((s) => s.c.family.split(':')[0]!)),
    casesByType: count(sent.map((s) => s.c.eventType ?? '(none)')),
  };
}

/**
 * Indices of the events of one kind, in order, each given out once: the earliest unused one at
 * or after a case's first possible index. Cases are judged in send order, so `from` only grows
 * and what lies before it is skipped for good.
 */
class Pool {
  readonly at: number[] = [];
  #start = 0;

  peek(from: number, until: number, used: Set<number>, fits: (i: number) => boolean = () => true): number | undefined {
    while (this.#start < this.at.length && this.at[this.#start]! < from) this.#start++;
    for (let k = this.#start; k < this.at.length && this.at[k]! <= until; k++) {
      const i = this.at[k]!;
      if (!used.has(i) && fits(i)) return i;
    }
    return undefined;
  }
}

/** Matches answers to cases (each answer used once, earliest first) and lists what does not fit. */
function judge(events: AnyEvent[], first: number, sent: Sent[], excused: Set<number>): { failures: string[]; lateMissing: number } {
  const used = new Set<number>(excused);
  const failures: string[] = [];
  let lateMissing = 0;
  // Errors by the event id they name (or by code when they name none); replies by type, and by request id.
  const pools = new Map<string, Pool>();
  const pool = (key: string) => pools.get(key) ?? pools.set(key, new Pool()).get(key)!;
  for (let i = first; i < events.length; i++) {
    const e = events[i]!;
    if (excused.has(i)) continue;
    if (e.type === 'error') pool(typeof e.error?.event_id === 'string' ? `id:${e.error.event_id}` : `idless:${e.error?.code}`).at.push(i);
    else if (REQUEST_REPLY.test(e.type)) pool(`req:${e.type}:${e.request_id ?? ''}`).at.push(i);
    else pool(`type:${e.type}`).at.push(i);
  }
  const find = (s: Sent, token: string): number | undefined => {
    const { c } = s;
    if (token.startsWith('error:')) {
      const code = token.slice(6);
      if (c.id === undefined) return pools.get(`idless:${code}`)?.peek(s.from, s.until, used);
      return pools.get(`id:${c.id}`)?.peek(s.from, s.until, used, (i) => events[i]!.error.code === code);
    }
    const key = REQUEST_REPLY.test(token) ? `req:${token}:${c.id ?? ''}` : `type:${token}`;
    return pools.get(key)?.peek(s.from, s.until, used);
  };
  const describe = (c: Judged) => `#${c.n} ${c.family} ${c.eventType ?? ''} id=${c.id === undefined ? '-' : JSON.stringify(c.id.slice(0, 40))}: ${c.preview}`;
  for (const s of sent) {
    const { c } = s;
    const missing: string[] = [];
    for (const token of c.expect.all) {
      const i = find(s, token);
      if (i === undefined) {
        missing.push(token);
        continue;
      }
      used.add(i);
      const param = events[i]!.error?.param;
      if (token.startsWith('error:') && c.expect.param !== undefined && !namesField(param, c.expect.param)) failures.push(`wrong param ${JSON.stringify(param)} (expected ${c.expect.param}) for ${describe(c)}`);
    }
    if (c.expect.any.length) {
      const found = c.expect.any.map((t) => find(s, t)).filter((i): i is number => i !== undefined);
      if (found.length) used.add(Math.min(...found));
      else missing.push(`one of ${c.expect.any.join(' | ')}`);
    }
    if (missing.length) {
      // An async case may still be answered; a sync one had its barrier.
      if (c.expect.async) lateMissing++;
      failures.push(`unanswered (${missing.join(', ')}) ${describe(c)}`);
    }
    // Whatever else names this case must be among its documented answers.
    if (c.id === undefined) continue;
    const allowed = new Set([...c.expect.all, ...c.expect.any, ...c.expect.may].filter((t) => t.startsWith('error:')).map((t) => t.slice(6)));
    for (const i of pools.get(`id:${c.id}`)?.at ?? []) {
      if (used.has(i) || i < s.from) continue;
      const e = events[i]!;
      used.add(i);
      if (!allowed.has(e.error.code)) failures.push(`wrong answer ${e.error.code} (${String(e.error.message).slice(0, 120)}) for ${describe(c)}`);
    }
  }
  for (let i = first; i < events.length; i++) {
    const e = events[i]!;
    if (e.type !== 'error' || used.has(i)) continue;
    const documented = (DOCUMENTED_ERROR_CODES as readonly string[]).includes(e.error?.code);
    failures.push(`${documented ? 'unattributed' : 'undocumented'} error ${e.error?.code}: ${String(e.error?.message).slice(0, 160)} (event_id ${e.error?.event_id})`);
  }
  return { failures, lateMissing };
}
