import { ClientError } from '../errors.ts';
import type { NewItem } from '../protocol/client-events.ts';
import type { ContentPart } from '../protocol/server-events.ts';
import type { Conversation, ConversationItem } from './conversation.ts';
import { newId } from './ids.ts';

export type { NewItem };

/** Which parts each role's message may hold (the Realtime rules, which clients also check). */
const PARTS_BY_ROLE: Record<'user' | 'assistant' | 'system', ContentPart['type'][]> = {
  user: ['input_text', 'input_audio', 'input_image'],
  assistant: ['output_text', 'output_audio'],
  system: ['input_text'],
};

/**
 * A client's item (conversation.item.create) as the conversation keeps it, checked against
 * what the conversation holds: a tool's output must answer a call that was made.
 */
export function newConversationItem(item: NewItem, atMs: number, conversation: Conversation): ConversationItem {
  const id = item.id ?? newId('item');
  if (item.type === 'function_call_output') {
    if (!conversation.hasCall(item.call_id)) throw new ClientError('invalid_value', `no function_call item in the conversation has call_id '${item.call_id}'`, 'item.call_id');
    return { type: 'function_call_output', id, callId: item.call_id, output: item.output, endMs: atMs };
  }
  if (item.type === 'function_call') return { type: 'function_call', id, callId: item.call_id, name: item.name, arguments: item.arguments, status: 'completed', endMs: atMs };
  const content = item.content.map((part, i): ContentPart => {
    if (!PARTS_BY_ROLE[item.role].includes(part.type)) {
      throw new ClientError('invalid_value', `a ${item.role} message cannot hold ${part.type} content: use ${PARTS_BY_ROLE[item.role].join(' or ')}`, `item.content.${i}.type`);
    }
    if (part.type === 'input_text' || part.type === 'output_text' || part.type === 'input_image') return part;
    if (part.audio && !part.transcript && part.type === 'output_audio') throw new ClientError('invalid_value', 'an assistant audio part needs its transcript (its audio is not transcribed)', `item.content.${i}.transcript`);
    return part.type === 'input_audio' ? { type: 'input_audio', transcript: part.transcript ?? null } : { type: 'output_audio', transcript: part.transcript ?? '' };
  });
  return { type: 'message', id, role: item.role, content, status: 'completed', endMs: atMs };
}

/** response.create's `input`: new items as they would be kept (not added), references looked up. */
export function resolveInput(input: (NewItem | { type: 'item_reference'; id: string })[], conversation: Conversation, atMs: number): ConversationItem[] {
  return input.map((item, i) => {
    if (item.type !== 'item_reference') return newConversationItem(item, atMs, conversation);
    const found = conversation.get(item.id);
    if (!found) throw new ClientError('item_not_found', `input.${i} refers to '${item.id}', which is not in the conversation`, `response.input.${i}.id`);
    return found;
  });
}
