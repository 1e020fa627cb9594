import { ClientError } from '../errors.ts';
import type { ChatMessage } from '../reasoning/index.ts';
import { partText, wireItem, type ContentPart, type WireItem } from '../protocol/server-events.ts';

export type Role = 'user' | 'assistant' | 'system';

/** One message of the conversation, in order, with the media time it was said or added at. */
export interface ConversationItem {
  id: string;
  role: Role;
  content: ContentPart[];
  /** Media ms at which the item ended (a spoken turn) or was added (a typed one). */
  endMs: number;
}

/** What a response answers: read from the conversation, not guessed from its last entry. */
export interface ResponseInput {
  /** The user message the response answers; absent when the last one was answered already. */
  question?: { id: string; text: string; endMs: number };
  /** Messages before the question, oldest first (all of them when there is no question). */
  before: ChatMessage[];
  /** Messages added after the question (system notes; later, tool calls and outputs). */
  after: ChatMessage[];
}

/** The words of an item, whatever its parts (a spoken turn's transcript, typed text). */
export function itemText(item: Pick<ConversationItem, 'content'>): string {
  return item.content
    .map(partText)
    .filter(Boolean)
    .join('\n');
}

/**
 * The session's conversation: items in order with ids, so a client can place an item after
 * another (`previous_item_id`) and a response knows exactly which question it answers.
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

  /**
   * Adds an item after `previousItemId` (null: first; undefined: last) and returns the id it
   * follows, as `conversation.item.added` reports it.
   */
  insert(item: ConversationItem, previousItemId?: string | null): string | null {
    if (this.get(item.id)) throw new ClientError('item_id_taken', `conversation item '${item.id}' already exists`, 'item.id');
    if (previousItemId === undefined) {
      const previous = this.lastId;
      this.#items.push(item);
      return previous;
    }
    if (previousItemId === null) {
      this.#items.unshift(item);
      return null;
    }
    const at = this.#items.findIndex((i) => i.id === previousItemId);
    if (at < 0) throw new ClientError('item_not_found', `previous_item_id '${previousItemId}' is not in the conversation`, 'previous_item_id');
    this.#items.splice(at + 1, 0, item);
    return previousItemId;
  }

  /** Sets a part of an item that is filled in later (a transcript once ASR finishes). */
  setContent(id: string, content: ContentPart[]): void {
    const item = this.get(id);
    if (item) item.content = content;
  }

  /** Drops items whose words turned out empty (an utterance ASR heard nothing in). */
  remove(id: string): void {
    const at = this.#items.findIndex((i) => i.id === id);
    if (at >= 0) this.#items.splice(at, 1);
  }

  wire(item: ConversationItem, status: WireItem['status'] = 'completed'): WireItem {
    return wireItem(item.id, item.role, status, item.content);
  }

  /**
   * The input of the next response: the latest user message is the question unless an
   * assistant message already follows it (a second `response.create`, e.g. after a tool
   * result, continues the conversation instead of asking the old question again).
   */
  responseInput(): ResponseInput {
    const spoken = this.#items.filter((i) => itemText(i));
    const q = spoken.findLastIndex((i) => i.role === 'user');
    const answered = q >= 0 && spoken.slice(q + 1).some((i) => i.role === 'assistant');
    const messages = (items: ConversationItem[]) => items.map((i): ChatMessage => ({ role: i.role, content: itemText(i) }));
    if (q < 0 || answered) return { before: messages(spoken), after: [] };
    const question = spoken[q]!;
    return { question: { id: question.id, text: itemText(question), endMs: question.endMs }, before: messages(spoken.slice(0, q)), after: messages(spoken.slice(q + 1)) };
  }
}
