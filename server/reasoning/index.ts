export { EmbeddedAnswerer, NO_LANGUAGE_MODEL_NOTE } from './llm/embedded.ts';
export { OpenAICompatibleReasoner, buildMessages } from './llm/openai-compatible.ts';
export type { OpenAICompatibleOptions } from './llm/openai-compatible.ts';
export type { Reasoner, ReasonerDelta, ReasonerRequest, ChatMessage, FrameImage, ToolCall, ToolSpec, ToolChoiceSpec } from './llm/types.ts';
export { checkInstruction, defaultInstructionFilterOptions } from './turn/instruction-filter.ts';
export type { InstructionFilterOptions, FilterVerdict } from './turn/instruction-filter.ts';
export { gatherContext, type AnswerContext, type ContextSources } from './context.ts';
