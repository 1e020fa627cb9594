export { CenterNetDetector, COCO_LABELS, defaultCenterNetModelPath } from './centernet.ts';
export type { CenterNetOptions } from './centernet.ts';
