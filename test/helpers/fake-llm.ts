import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for an external OpenAI-compatible LLM server (vLLM, llama.cpp, Ollama…): it
 * streams a scripted answer as server-sent events, so our client is tested on the wire format.
 */
/** A part of a message with images: text, or an image by URL. */
export type ContentPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };

/** The words of a message's content, whatever its form. */
export function contentText(content: string | null | ContentPart[]): string {
  if (Array.isArray(content)) return content.map((p) => (p.type === 'text' ? p.text : '')).join(' ');
  return content ?? '';
}

/**
 * A failure the scripted server acts out instead of answering:
 * - `refuse`: an HTTP error (500, 429, 503…) with an OpenAI-style error body;
 * - `hang`: reads the request and never sends headers;
 * - `stall`: streams the first `after` tokens of `text`, then goes silent (headers sent, no end);
 * - `drop`: streams the first `after` tokens of `text`, then cuts the connection.
 */
export type FakeFault =
  | { fault: 'refuse'; status: number }
  | { fault: 'hang' }
  | { fault: 'stall'; text: string; after: number }
  | { fault: 'drop'; text: string; after: number };

/** What the scripted model says: words, calls of the tools it was offered, or a failure. */
export type FakeReply = string | { toolCalls: { name: string; arguments: string }[] } | FakeFault;

export interface FakeRequest {
  messages: { role: string; content: string | null | ContentPart[]; tool_calls?: { id: string; function: { name: string; arguments: string } }[]; tool_call_id?: string }[];
  stream?: boolean;
  model: string;
  tools?: { type: 'function'; function: { name: string; description?: string; parameters?: unknown } }[];
  tool_choice?: unknown;
  parallel_tool_calls?: boolean;
  max_tokens?: number;
  stream_options?: { include_usage?: boolean };
}

export interface FakeLlm {
  url: string;
  requests: FakeRequest[];
  /** Streams (and hung requests) that ended because the client went away. */
  aborted: number;
  close(): Promise<void>;
}

/** Replies in turn, one per request; the last one repeats. */
export function inTurn(...replies: FakeReply[]): () => FakeReply {
  let n = 0;
  return () => replies[Math.min(n++, replies.length - 1)]!;
}

/** The usage chunk OpenAI sends last when asked (`stream_options.include_usage`): tokens counted as words here. */
function writeUsage(res: http.ServerResponse, request: FakeRequest, output: string): void {
  if (!request.stream_options?.include_usage) return;
  const words = (text: string | null | ContentPart[]) => contentText(text).split(/\s+/).filter(Boolean).length;
  const input = request.messages.reduce((n, m) => n + words(m.content), 0);
  const usage = { prompt_tokens: input, completion_tokens: words(output), total_tokens: input + words(output) };
  res.write(`data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 0, model: request.model, choices: [], usage })}\n\n`);
}

export async function startFakeLlm(answer: (question: string, request: FakeRequest) => FakeReply, tokenDelayMs = 5): Promise<FakeLlm> {
  const state: FakeLlm = { url: '', requests: [], aborted: 0, close: async () => {} };
  const server = http.createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    if (req.url !== '/v1/chat/completions' || req.method !== 'POST') return void res.writeHead(404).end();
    const request = JSON.parse(body);
    state.requests.push(request);
    const reply = answer(contentText(request.messages.at(-1).content), request);
    const chunk = (delta: unknown, finish: string | null = null) => `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 0, model: request.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    if (typeof reply === 'object' && 'fault' in reply) return void (await actOut(reply, req, res, chunk, tokenDelayMs, state));
    if (typeof reply !== 'string') {
      // Tool calls stream as OpenAI does: the first chunk of each names it, later ones add arguments.
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const [index, call] of reply.toolCalls.entries()) {
        res.write(chunk({ role: 'assistant', tool_calls: [{ index, id: `call_${state.requests.length}_${index}`, type: 'function', function: { name: call.name, arguments: '' } }] }));
        for (const piece of call.arguments.match(/.{1,8}/gs) ?? []) {
          res.write(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
          await new Promise((r) => setTimeout(r, tokenDelayMs));
        }
      }
      res.write(chunk({}, 'tool_calls'));
      writeUsage(res, request, reply.toolCalls.map((c) => c.arguments).join(''));
      res.write('data: [DONE]\n\n');
      return void res.end();
    }
    const text = reply;
    if (!request.stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ id: 'c1', object: 'chat.completion', created: 0, model: request.model, choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }] }));
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    let closed = false;
    res.on('close', () => {
      if (!res.writableFinished) state.aborted++;
      closed = true;
    });
    for (const token of text.match(/\S+\s*/g) ?? []) {
      if (closed) return;
      res.write(chunk({ content: token }));
      await new Promise((r) => setTimeout(r, tokenDelayMs));
    }
    writeUsage(res, request, text);
    res.write('data: [DONE]\n\n');
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  state.close = () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve())));
  return state;
}

/** Plays a FakeFault on one request. */
async function actOut(fault: FakeFault, req: http.IncomingMessage, res: http.ServerResponse, chunk: (delta: unknown) => string, tokenDelayMs: number, state: FakeLlm): Promise<void> {
  let gone = false;
  res.on('close', () => {
    if (!res.writableFinished) state.aborted++;
    gone = true;
  });
  if (fault.fault === 'refuse') {
    const type = fault.status === 429 ? 'rate_limit_exceeded' : 'server_error';
    res.writeHead(fault.status, { 'content-type': 'application/json' });
    return void res.end(JSON.stringify({ error: { message: `scripted ${fault.status}`, type, code: type } }));
  }
  if (fault.fault === 'hang') return; // the socket stays open until the client gives up or the server closes
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const token of (fault.text.match(/\S+\s*/g) ?? []).slice(0, fault.after)) {
    if (gone) return;
    res.write(chunk({ content: token }));
    await new Promise((r) => setTimeout(r, tokenDelayMs));
  }
  if (fault.fault === 'drop') req.socket.destroy();
  // 'stall': nothing more, until the client gives up
}
