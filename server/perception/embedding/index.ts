export {
  OnnxImageEmbedder,
  CLIP_PREPROCESSING,
  SIGLIP_PREPROCESSING,
  cudaAvailable,
  defaultModelsDir,
  findFirstModel,
  findEmbeddingModel,
} from './onnx-embedder.ts';
export type { EmbeddingModelConfig, OnnxEmbedderOptions, Preprocessing } from './onnx-embedder.ts';
