import { ClientError } from '../errors.ts';
import type { ChatMessage } from '../reasoning/index.ts';
import { partText, wireItem, type ContentPart, type ItemStatus, type WireItem } from '../protocol/server-events.ts';

export type Role = 'user' | 'assistant' | 'system';

/** What every item has: an id and the media time it ended (a spoken turn) or was added at. */
interface ItemBase {
  id: string;
  endMs: number;
  status?: ItemStatus;
}

/** One item of the conversation, in order. */
export type ConversationItem =
  | (ItemBase & { type: 'message'; role: Role; content: ContentPart[] })
  | (ItemBase & { type: 'function_call'; callId: string; name: string; arguments: string })
  | (ItemBase & { type: 'function_call_output'; callId: string; output: string });

export type MessageItem = Extract<ConversationItem, { type: 'message' }>;

/** What a response answers: read from the conversation, not guessed from its last entry. */
export interface ResponseInput {
  /** The user message the response answers; absent when the last one was answered already. */
  question?: { id: string; text: string; endMs: number; imageUrls: string[] };
  /** Messages before the question, oldest first (all of them when there is no question). */
  before: ChatMessage[];
  /** Messages after the question (system notes, tool calls and their outputs). */
  after: ChatMessage[];
}

/** The words of an item: a message's parts (text, or a spoken part's transcript), a tool's output. */
export function itemText(item: ConversationItem): string {
  if (item.type === 'function_call_output') return item.output;
  if (item.type === 'function_call') return '';
  return item.content.map(partText).filter(Boolean).join('\n');
}

/** An item as the reasoner reads it; undefined for a message with no words yet. */
function chatMessage(item: ConversationItem): ChatMessage | undefined {
  if (item.type === 'function_call') return { role: 'assistant', content: '', toolCalls: [{ callId: item.callId, name: item.name, arguments: item.arguments }] };
  if (item.type === 'function_call_output') return { role: 'tool', callId: item.callId, content: item.output };
  const text = itemText(item);
  const imageUrls = imagesOf(item);
  if (!text && imageUrls.length === 0) return undefined;
  return imageUrls.length ? { role: item.role, content: text, imageUrls } : { role: item.role, content: text };
}

/**
 * Calls the model made together are one assistant message with several tool calls, as chat
 * APIs require (each tool output must follow the message that holds its call).
 */
function mergeCalls(messages: ChatMessage[]): ChatMessage[] {
  const merged: ChatMessage[] = [];
  for (const m of messages) {
    const last = merged.at(-1);
    if (m.role === 'assistant' && m.toolCalls?.length && !m.content && last?.role === 'assistant' && last.toolCalls?.length) {
      merged[merged.length - 1] = { ...last, toolCalls: [...last.toolCalls, ...m.toolCalls] };
    } else {
      merged.push(m);
    }
  }
  return merged;
}

/** The images a message holds, as data URLs. */
function imagesOf(item: ConversationItem): string[] {
  return item.type === 'message' ? item.content.flatMap((p) => (p.type === 'input_image' ? [p.image_url] : [])) : [];
}

/**
 * The session's conversation: items in order with ids, so a client can place an item after
 * another (`previous_item_id`), retrieve, truncate or delete it, and a response knows exactly
 * which question it answers.
 */
export class Conversation {
  readonly #items: ConversationItem[] = [];

  get items(): readonly ConversationItem[] {
    return this.#items;
  }

  get length(): number {
    return this.#items.length;
  }

  get lastId(): string | null {
    return this.#items.at(-1)?.id ?? null;
  }

  get(id: string): ConversationItem | undefined {
    return this.#items.find((i) => i.id === id);
  }

  /** The item, or a ClientError naming the unknown id (`param` says which field held it). */
  require(id: string, param = 'item_id'): ConversationItem {
    const item = this.get(id);
    if (!item) throw new ClientError('item_not_found', `there is no conversation item '${id}'`, param);
    return item;
  }

  /** The id of the item before `id` (null when it is first). */
  previousOf(id: string): string | null {
    const at = this.#items.findIndex((i) => i.id === id);
    return at > 0 ? this.#items[at - 1]!.id : null;
  }

  /**
   * Adds an item after `previousItemId` (null or "root": first; undefined: last) and returns the
   * id it follows, as `conversation.item.added` reports it.
   */
  insert(item: ConversationItem, previousItemId?: string | null): string | null {
    if (this.get(item.id)) throw new ClientError('item_id_taken', `conversation item '${item.id}' already exists`, 'item.id');
    if (previousItemId === undefined) {
      const previous = this.lastId;
      this.#items.push(item);
      return previous;
    }
    if (previousItemId === null || previousItemId === 'root') {
      this.#items.unshift(item);
      return null;
    }
    const at = this.#items.findIndex((i) => i.id === previousItemId);
    if (at < 0) throw new ClientError('item_not_found', `previous_item_id '${previousItemId}' is not in the conversation`, 'previous_item_id');
    this.#items.splice(at + 1, 0, item);
    return previousItemId;
  }

  /** Replaces an item's fields that are filled in later (a transcript, a call's arguments). */
  update(id: string, fields: Partial<ConversationItem>): void {
    const at = this.#items.findIndex((i) => i.id === id);
    if (at >= 0) this.#items[at] = { ...this.#items[at]!, ...fields } as ConversationItem;
  }

  /** Sets a message's parts once they are known (a transcript once ASR finishes). */
  setContent(id: string, content: ContentPart[]): void {
    this.update(id, { content } as Partial<ConversationItem>);
  }

  /** Removes an item; returns whether it was there. */
  remove(id: string): boolean {
    const at = this.#items.findIndex((i) => i.id === id);
    if (at >= 0) this.#items.splice(at, 1);
    return at >= 0;
  }

  /** Whether a function_call item with this call id is in the conversation. */
  hasCall(callId: string): boolean {
    return this.#items.some((i) => i.type === 'function_call' && i.callId === callId);
  }

  wire(item: ConversationItem, status: ItemStatus = item.status ?? 'completed'): WireItem {
    if (item.type === 'function_call') return { id: item.id, object: 'realtime.item', type: 'function_call', status, call_id: item.callId, name: item.name, arguments: item.arguments };
    if (item.type === 'function_call_output') return { id: item.id, object: 'realtime.item', type: 'function_call_output', status: 'completed', call_id: item.callId, output: item.output };
    return wireItem(item.id, item.role, status, item.content);
  }

  /**
   * The input of the next response. `questionId` names the question (a finished user turn);
   * without it the latest user message is the question unless an assistant message already
   * answers it (a second `response.create`, e.g. after a tool result, continues the
   * conversation instead of asking the old question again).
   */
  responseInput(questionId?: string): ResponseInput {
    return responseInputOf(this.#items, questionId);
  }
}

/** A response's input from a list of items: the conversation's, or a response's own `input`. */
export function responseInputOf(all: readonly ConversationItem[], questionId?: string): ResponseInput {
  const items = all.filter((i) => chatMessage(i) !== undefined);
  const messages = (list: ConversationItem[]) => mergeCalls(list.map((i) => chatMessage(i)!));
  let q = questionId === undefined ? items.findLastIndex((i) => i.type === 'message' && i.role === 'user') : items.findIndex((i) => i.id === questionId);
  if (questionId === undefined && q >= 0 && items.slice(q + 1).some((i) => i.type === 'message' && i.role === 'assistant')) q = -1;
  if (q < 0) return { before: messages(items), after: [] };
  const question = items[q]!;
  return { question: { id: question.id, text: itemText(question), endMs: question.endMs, imageUrls: imagesOf(question) }, before: messages(items.slice(0, q)), after: messages(items.slice(q + 1)) };
}
