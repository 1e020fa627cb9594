import { z } from 'zod';

/**
 * Client → server events: the OpenAI Realtime GA names we support, plus `omnilive.*`
 * extensions. Declared once; the TypeScript types are derived from these schemas.
 */
const eventId = z.string().max(128).optional();

import { functionTool, maxOutputTokens, toolChoice } from './session-patch.ts';

export { sessionPatchSchema, userId, type SessionPatch } from './session-patch.ts';

const itemId = z.string().min(1).max(64);
const inputText = z.object({ type: z.literal('input_text'), text: z.string().max(32_000) }).strict();
const outputText = z.object({ type: z.literal('output_text'), text: z.string().max(32_000) }).strict();
/** Audio parts as items carry them: the transcript stands for the audio (audio bytes are not transcribed here). */
const inputAudio = z.object({ type: z.literal('input_audio'), transcript: z.string().max(32_000).nullable().optional(), audio: z.string().optional() }).strict();
const outputAudio = z.object({ type: z.literal('output_audio'), transcript: z.string().max(32_000).nullable().optional(), audio: z.string().optional() }).strict();
/** An image as a data URL (the server does not fetch URLs): JPEG, PNG, WebP or GIF. */
const inputImage = z
  .object({
    type: z.literal('input_image'),
    image_url: z.string().regex(/^data:image\/(jpeg|png|webp|gif);base64,[A-Za-z0-9+/]+={0,2}$/, 'image_url must be a base64 data URL of a JPEG, PNG, WebP or GIF image (URLs are not fetched)'),
    detail: z.enum(['auto', 'low', 'high']).optional(),
  })
  .strict();
const itemStatus = z.enum(['completed', 'incomplete', 'in_progress']).optional();

/** What every item a client creates may carry besides its own fields. */
const itemBase = { id: itemId.optional(), object: z.literal('realtime.item').optional(), status: itemStatus };
const callId = z.string().min(1).max(128);

/** conversation.item.create's item: a message, a tool's output, or a tool call (e.g. replayed history). */
export const newItemSchema = z.discriminatedUnion('type', [
  z
    .object({
      ...itemBase,
      type: z.literal('message'),
      role: z.enum(['user', 'assistant', 'system']),
      content: z.array(z.union([inputText, outputText, inputAudio, outputAudio, inputImage])).min(1).max(16),
    })
    .strict(),
  z.object({ ...itemBase, type: z.literal('function_call_output'), call_id: callId, output: z.string().max(200_000) }).strict(),
  z.object({ ...itemBase, type: z.literal('function_call'), call_id: callId, name: z.string().min(1).max(64), arguments: z.string().max(200_000) }).strict(),
]);

export type NewItem = z.infer<typeof newItemSchema>;

/**
 * WebRTC signalling (omnilive.webrtc.*): request/response, the reply carries request_id =
 * the request's event_id. The mediasoup objects inside are passed through as mediasoup-client
 * makes them; mediasoup validates them in depth.
 */
const transportId = z.string().min(1).max(64);
const dtlsParameters = z
  .object({
    role: z.enum(['auto', 'client', 'server']).optional(),
    fingerprints: z.array(z.object({ algorithm: z.string().max(32), value: z.string().max(256) }).strict()).min(1).max(8),
  })
  .strict();
const rtpParameters = z
  .object({
    mid: z.string().max(32).optional(),
    codecs: z.array(z.object({ mimeType: z.string().max(64), payloadType: z.number().int().min(0).max(127), clockRate: z.number().int().positive() }).passthrough()).min(1).max(16),
    headerExtensions: z.array(z.object({}).passthrough()).max(32).optional(),
    encodings: z.array(z.object({}).passthrough()).max(8).optional(),
    rtcp: z.object({}).passthrough().optional(),
    msid: z.string().max(256).optional(),
  })
  .strict();

const rtpCapabilities = z
  .object({
    codecs: z.array(z.object({ mimeType: z.string().max(64), kind: z.enum(['audio', 'video']), clockRate: z.number().int().positive() }).passthrough()).max(64),
    headerExtensions: z.array(z.object({}).passthrough()).max(64).optional(),
  })
  .strict();

export const webRtcEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('omnilive.webrtc.join'), event_id: eventId }).strict(),
  z.object({ type: z.literal('omnilive.webrtc.transport.create'), event_id: eventId }).strict(),
  z.object({ type: z.literal('omnilive.webrtc.transport.connect'), event_id: eventId, transport_id: transportId, dtls_parameters: dtlsParameters }).strict(),
  z
    .object({ type: z.literal('omnilive.webrtc.produce'), event_id: eventId, transport_id: transportId, kind: z.enum(['audio', 'video']), rtp_parameters: rtpParameters })
    .strict(),
  // The answer's voice as a track to receive on a (second, receive) transport.
  z.object({ type: z.literal('omnilive.webrtc.consume'), event_id: eventId, transport_id: transportId, rtp_capabilities: rtpCapabilities }).strict(),
  z.object({ type: z.literal('omnilive.webrtc.leave'), event_id: eventId }).strict(),
]);

export type WebRtcEvent = z.infer<typeof webRtcEventSchema>;

export const clientEventSchema = z.discriminatedUnion('type', [
  ...webRtcEventSchema.options,
  // Its session is read field by field (session-patch.ts): a bad field does not cost the rest.
  z.object({ type: z.literal('session.update'), event_id: eventId, session: z.unknown() }).strict(),
  z.object({ type: z.literal('input_audio_buffer.append'), event_id: eventId, audio: z.string() }).strict(),
  z.object({ type: z.literal('input_audio_buffer.commit'), event_id: eventId }).strict(),
  z.object({ type: z.literal('input_audio_buffer.clear'), event_id: eventId }).strict(),
  z
    .object({
      type: z.literal('conversation.item.create'),
      event_id: eventId,
      previous_item_id: z.string().nullable().optional(),
      item: newItemSchema,
    })
    .strict(),
  z.object({ type: z.literal('conversation.item.retrieve'), event_id: eventId, item_id: itemId }).strict(),
  z.object({ type: z.literal('conversation.item.truncate'), event_id: eventId, item_id: itemId, content_index: z.number().int().min(0), audio_end_ms: z.number().int().min(0) }).strict(),
  z.object({ type: z.literal('conversation.item.delete'), event_id: eventId, item_id: itemId }).strict(),
  z.object({ type: z.literal('output_audio_buffer.clear'), event_id: eventId }).strict(),
  z
    .object({
      type: z.literal('response.create'),
      event_id: eventId,
      response: z
        .object({
          instructions: z.string().max(32_000).optional(),
          output_modalities: z.array(z.enum(['text', 'audio'])).min(1).max(2).optional(),
          tools: z.array(functionTool).max(128).optional(),
          tool_choice: toolChoice.optional(),
          max_output_tokens: maxOutputTokens.optional(),
          metadata: z.record(z.string().max(64), z.string().max(512)).optional(),
          conversation: z.enum(['auto', 'none']).optional(),
          /** What to answer instead of the conversation: new items, or references to the conversation's. */
          input: z.array(z.union([newItemSchema, z.object({ type: z.literal('item_reference'), id: itemId }).strict()])).max(64).optional(),
          // Accepted and without effect here, as in session.update.
          audio: z.object({ output: z.object({ format: z.unknown().optional(), voice: z.string().optional() }).passthrough().optional() }).passthrough().optional(),
          prompt: z.null().optional(),
        })
        .strict()
        .optional(),
    })
    .strict(),
  z.object({ type: z.literal('response.cancel'), event_id: eventId, response_id: z.string().optional() }).strict(),
  z
    .object({
      type: z.literal('omnilive.memory.search'),
      event_id: eventId,
      query: z.string().min(1).max(2000),
      limit: z.number().int().min(1).max(50).optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('omnilive.watch.create'),
      event_id: eventId,
      /** What to watch for, in words: "the gate number is on the screen". */
      condition: z.string().trim().min(1).max(500),
      /** 'once' (default) ends after firing; 'every' fires again after its cooldown. */
      mode: z.enum(['once', 'every']).optional(),
      /** Least time between two firings of an 'every' watch, ms (default 60 000). */
      cooldown_ms: z.number().int().min(1000).max(7 * 24 * 3600 * 1000).optional(),
      /** Ends the watch unfired this many ms from now. */
      expires_in_ms: z.number().int().min(1000).max(365 * 24 * 3600 * 1000).optional(),
    })
    .strict(),
  z.object({ type: z.literal('omnilive.watch.list'), event_id: eventId }).strict(),
  z.object({ type: z.literal('omnilive.watch.delete'), event_id: eventId, watch_id: z.string().min(1).max(128) }).strict(),
  z
    .object({
      type: z.literal('omnilive.video_frame.append'),
      event_id: eventId,
      /** base64 JPEG (PNG and WebP work too). */
      image: z.string().min(1),
      /** Media time of the frame, ms; default: the session's current media time. */
      t: z.number().min(0).optional(),
    })
    .strict(),
]);

export type ClientEvent = z.infer<typeof clientEventSchema>;
export const CLIENT_EVENT_TYPES = clientEventSchema.options.map((o) => o.shape.type.value);

/** Deepest nesting a client event may have, the event itself being 1 (events need about 10, tool schemas a few dozen). */
export const MAX_EVENT_DEPTH = 64;

/**
 * The top-level field of a parsed event nested deeper than `maxDepth`, or undefined. JSON.parse
 * takes any depth, but structuredClone, JSON.stringify and schema compilers recurse and would
 * overflow the stack on what comes next: this walk is iterative, so it refuses such an event first.
 */
export function tooDeepField(event: object, maxDepth = MAX_EVENT_DEPTH): string | undefined {
  for (const [key, value] of Object.entries(event)) {
    const stack: [unknown, number][] = [[value, 2]];
    while (stack.length) {
      const [v, depth] = stack.pop()!;
      if (typeof v !== 'object' || v === null) continue;
      if (depth > maxDepth) return key;
      for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
    }
  }
  return undefined;
}

/** A zod issue as one readable line and the offending field's dotted path. */
export function describeIssue(error: z.ZodError): { message: string; param?: string } {
  const issue = error.issues[0]!;
  const param = issue.path.length ? issue.path.join('.') : undefined;
  return { message: param ? `${param}: ${issue.message}` : issue.message, param };
}
