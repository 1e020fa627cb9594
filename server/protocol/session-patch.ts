import { Ajv } from 'ajv';
import { z } from 'zod';
import { ClientError } from '../errors.ts';

/**
 * `session.update`'s `session`: every GA field, with the `omnilive` extension. A field that is
 * malformed or cannot be honoured is refused by name while the rest of the update applies
 * (see parseSessionPatch), as Realtime clients send whole sessions and expect the rest to hold.
 */

/** A user id is a memory id: short and printable. */
export const userId = z
  .string()
  .regex(/^[A-Za-z0-9][\w.@:+-]{0,127}$/, 'a user id is 1–128 characters of letters, digits and _.@:+- (starting with a letter or digit)');

const pcmFormat = z.object({ type: z.literal('audio/pcm'), rate: z.union([z.literal(24000), z.literal(16000)]).optional() }).strict();
/** G.711 at 8 kHz, for telephony. */
const g711Format = z.object({ type: z.enum(['audio/pcmu', 'audio/pcma']) }).strict();
const audioFormat = z.union([pcmFormat, g711Format]);

const turnDetection = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('server_vad'),
      threshold: z.number().min(0).max(1).optional(),
      prefix_padding_ms: z.number().int().min(0).max(5000).optional(),
      silence_duration_ms: z.number().int().min(100).max(10000).optional(),
      create_response: z.boolean().optional(),
      interrupt_response: z.boolean().optional(),
      idle_timeout_ms: z.number().int().nullable().optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('semantic_vad'),
      eagerness: z.enum(['low', 'medium', 'high', 'auto']).optional(),
      create_response: z.boolean().optional(),
      interrupt_response: z.boolean().optional(),
    })
    .strict(),
]);

/** A function tool's name as LLM APIs accept it. */
const toolName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a tool name is 1–64 letters, digits, _ or -');

export const functionTool = z
  .object({
    type: z.literal('function'),
    name: toolName,
    description: z.string().max(8000).optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export const toolChoice = z.union([z.enum(['auto', 'none', 'required']), z.object({ type: z.literal('function'), name: toolName }).strict()]);

export const maxOutputTokens = z.union([z.number().int().min(1).max(32_768), z.literal('inf')]);

export const sessionPatchSchema = z
  .object({
    type: z.literal('realtime').optional(),
    object: z.literal('realtime.session').optional(),
    id: z.string().optional(),
    model: z.string().max(200).optional(),
    instructions: z.string().max(32_000).optional(),
    output_modalities: z.array(z.enum(['text', 'audio'])).min(1).max(2).optional(),
    audio: z
      .object({
        input: z
          .object({
            format: audioFormat.optional(),
            transcription: z.object({ model: z.string().optional(), language: z.string().optional(), prompt: z.string().optional() }).strict().nullable().optional(),
            turn_detection: turnDetection.nullable().optional(),
            noise_reduction: z.object({ type: z.enum(['near_field', 'far_field']) }).strict().nullable().optional(),
          })
          .strict()
          .optional(),
        output: z
          .object({
            format: audioFormat.optional(),
            voice: z.string().max(64).optional(),
            speed: z.number().min(0.25).max(1.5).optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    tools: z.array(functionTool).max(128).optional(),
    tool_choice: toolChoice.optional(),
    parallel_tool_calls: z.boolean().optional(),
    max_output_tokens: maxOutputTokens.optional(),
    // Accepted and without effect here (see the README's compatibility table).
    tracing: z.union([z.literal('auto'), z.object({}).passthrough(), z.null()]).optional(),
    truncation: z.union([z.enum(['auto', 'disabled']), z.object({ type: z.literal('retention_ratio') }).passthrough()]).optional(),
    include: z.array(z.literal('item.input_audio_transcription.logprobs')).optional(),
    reasoning: z.object({ effort: z.string().optional() }).passthrough().nullable().optional(),
    prompt: z.null().optional(),
    omnilive: z
      .object({
        /** 'media': audio may arrive faster than real time (files, evaluation); 'live': it may not. */
        clock: z.enum(['live', 'media']).optional(),
        /** Whose long-term memory the session keeps: for API-key connections (a secret pins its own). */
        user: userId.optional(),
        instruction_filter: z.enum(['off', 'rules', 'llm']).optional(),
        video_fps: z.number().min(0.1).max(5).optional(),
        clipper: z
          .object({
            min_frames: z.number().int().min(1).max(64).optional(),
            max_frames: z.number().int().min(1).max(64).optional(),
            cut_similarity: z.number().min(0).max(1).optional(),
          })
          .strict()
          .optional(),
        /** The server's own tools (memory_search, current_view), offered to a language model. */
        builtin_tools: z.boolean().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type SessionPatch = z.infer<typeof sessionPatchSchema>;
export type FunctionTool = z.infer<typeof functionTool>;
export type ToolChoice = z.infer<typeof toolChoice>;

/** Why a field that parses still cannot be honoured here (checked before the schema). */
const REFUSED: { path: string[]; when: (value: unknown) => boolean; why: string }[] = [
  { path: ['type'], when: (v) => v === 'transcription', why: 'transcription-only sessions are not available: use a realtime session (its input transcription is always on)' },
  { path: ['prompt'], when: (v) => v !== null && v !== undefined, why: 'stored prompts are an OpenAI platform feature; send instructions instead' },
  { path: ['audio', 'output', 'speed'], when: (v) => typeof v === 'number' && v !== 1, why: 'the speech engines here speak at one speed: only 1 is supported' },
];

/** The mcp tool type names a remote server OmniLive would have to call itself. */
const MCP_REFUSAL = 'MCP tools are not supported; declare function tools and run them in the client';

const ajv = new Ajv({ strict: false, validateSchema: true });

/**
 * Parses a session patch field by field: what is malformed or cannot be honoured is left out
 * and reported as a ClientError naming it (`session.<path>`); the rest is returned to apply.
 */
export function parseSessionPatch(raw: unknown): { patch: SessionPatch; problems: ClientError[] } {
  const problems: ClientError[] = [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { patch: {}, problems: [new ClientError('invalid_value', 'session.update: session must be an object', 'session')] };
  }
  let candidate: Record<string, unknown> = structuredClone(raw as Record<string, unknown>);
  const refuse = (path: (string | number)[], message: string) => {
    problems.push(new ClientError('invalid_value', `session.${path.join('.')}: ${message}`, `session.${path.join('.')}`));
    candidate = withoutPath(candidate, path);
  };
  for (const rule of REFUSED) {
    const value = valueAt(candidate, rule.path);
    if (value !== undefined && rule.when(value)) refuse(rule.path, rule.why);
  }
  const tools = candidate.tools;
  if (Array.isArray(tools)) {
    // Check tools one by one, so one bad tool does not cost the others.
    tools.forEach((tool, i) => {
      if (typeof tool === 'object' && tool && (tool as { type?: unknown }).type === 'mcp') return problems.push(toolProblem(i, MCP_REFUSAL));
      const parsed = functionTool.safeParse(tool);
      if (!parsed.success) return problems.push(toolProblem(i, parsed.error.issues[0]!.message, parsed.error.issues[0]!.path));
      const schemaError = invalidSchema(parsed.data.parameters);
      if (schemaError) problems.push(toolProblem(i, `parameters is not a valid JSON schema: ${schemaError}`, ['parameters']));
    });
    const bad = new Set(problems.filter((p) => p.param?.startsWith('session.tools.')).map((p) => Number(p.param!.split('.')[2])));
    candidate.tools = tools.filter((_, i) => !bad.has(i));
  }
  // Whatever the schema still refuses goes by its path, one field at a time.
  for (let attempt = 0; attempt < 32; attempt++) {
    const parsed = sessionPatchSchema.safeParse(candidate);
    if (parsed.success) return { patch: parsed.data, problems };
    const issue = parsed.error.issues[0]!;
    const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
    const message = issue.code === 'unrecognized_keys' ? 'is not a session field' : issue.message;
    if (path.length === 0) break;
    refuse(path.map((p) => (typeof p === 'symbol' ? String(p) : p)), message);
  }
  return { patch: {}, problems: [...problems, new ClientError('invalid_value', 'session.update: the session object could not be read', 'session')] };
}

function toolProblem(index: number, message: string, path: PropertyKey[] = []): ClientError {
  const param = ['session', 'tools', String(index), ...path.map(String)].join('.');
  return new ClientError('invalid_value', `${param}: ${message}`, param);
}

/** Why `schema` is not a JSON schema a model could fill in, or undefined when it is one. */
export function invalidSchema(schema: Record<string, unknown> | undefined): string | undefined {
  if (schema === undefined) return undefined;
  if (schema.type !== undefined && schema.type !== 'object') return `the top level must be an object schema, not '${String(schema.type)}'`;
  try {
    ajv.compile(schema);
    return undefined;
  } catch (error) {
    return (error as Error).message.replace(/^schema is invalid: /, '');
  }
}

function valueAt(o: unknown, path: string[]): unknown {
  let at = o;
  for (const key of path) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

/**
 * A copy of `o` without the field at `path`: an array element goes from its array, and an object
 * left empty goes from its parent (a patch of `{ audio: {} }` sets nothing).
 */
export function withoutPath(o: Record<string, unknown>, path: readonly (string | number)[]): Record<string, unknown> {
  const [head, ...rest] = path.map(String);
  if (head === undefined || !(head in o)) return o;
  const copy = { ...o };
  const child = copy[head];
  if (rest.length === 0) delete copy[head];
  else if (Array.isArray(child)) copy[head] = child.filter((_, i) => i !== Number(rest[0]));
  else if (typeof child === 'object' && child !== null) {
    const pruned = withoutPath(child as Record<string, unknown>, rest);
    if (Object.keys(pruned).length) copy[head] = pruned;
    else delete copy[head];
  }
  return copy;
}
