import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for an external OpenAI-compatible LLM server (vLLM, llama.cpp, Ollama…): it
 * streams a scripted answer as server-sent events, so our client is tested on the wire format.
 */
export interface FakeLlm {
  url: string;
  requests: { messages: { role: string; content: string }[]; stream?: boolean; model: string }[];
  /** Streams that ended because the client went away. */
  aborted: number;
  close(): Promise<void>;
}

export async function startFakeLlm(answer: (question: string) => string, tokenDelayMs = 5): Promise<FakeLlm> {
  const state: FakeLlm = { url: '', requests: [], aborted: 0, close: async () => {} };
  const server = http.createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    if (req.url !== '/v1/chat/completions' || req.method !== 'POST') return void res.writeHead(404).end();
    const request = JSON.parse(body);
    state.requests.push(request);
    const text = answer(request.messages.at(-1).content);
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
      res.write(`data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 0, model: request.model, choices: [{ index: 0, delta: { content: token }, finish_reason: null }] })}\n\n`);
      await new Promise((r) => setTimeout(r, tokenDelayMs));
    }
    res.write('data: [DONE]\n\n');
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  state.close = () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve())));
  return state;
}
