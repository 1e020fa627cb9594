import { newId } from './ids.ts';
import { wireItem, type ItemStatus, type ResponsePart, type WireFunctionCallItem, type WireItem } from '../protocol/server-events.ts';

/** One sentence of a spoken answer and where its audio starts, for truncation to what was heard. */
interface SpokenSentence {
  text: string;
  startMs: number;
}

/** An assistant message of a response's output: text, or audio with its transcript. */
export class MessageOutput {
  readonly kind = 'message';
  readonly id = newId('item');
  text = '';
  readonly sentences: SpokenSentence[] = [];
  /** Set by a truncate: the audio the client kept, and so the transcript that stands. */
  truncatedAtMs: number | undefined;

  constructor(
    readonly outputIndex: number,
    readonly audio: boolean,
  ) {}

  /** Text whose audio was sent (cut at a truncation). */
  get spoken(): string {
    const cut = this.truncatedAtMs;
    return this.sentences
      .filter((s) => cut === undefined || s.startMs < cut)
      .map((s) => `${s.text} `)
      .join('');
  }

  ref(responseId: string) {
    return { response_id: responseId, item_id: this.id, output_index: this.outputIndex, content_index: 0 };
  }

  part(): ResponsePart {
    return this.audio ? { type: 'audio', transcript: this.spoken.trim() } : { type: 'text', text: this.text };
  }

  wire(status: ItemStatus): WireItem {
    return wireItem(this.id, 'assistant', status, this.audio ? [{ type: 'output_audio', transcript: this.spoken.trim() }] : [{ type: 'output_text', text: this.text }]);
  }
}

/** A call of a client tool: its arguments stream in; the client runs it. */
export class FunctionCallOutput {
  readonly kind = 'function_call';
  readonly id = newId('item');
  arguments = '';

  constructor(
    readonly outputIndex: number,
    readonly callId: string,
    readonly name: string,
  ) {}

  wire(status: ItemStatus): WireFunctionCallItem {
    return { id: this.id, object: 'realtime.item', type: 'function_call', status, call_id: this.callId, name: this.name, arguments: this.arguments };
  }
}

export type OutputItem = MessageOutput | FunctionCallOutput;
