import type { ClipScene } from '../../../memory/types.ts';
import type { FrameFacts } from './facts.ts';

/** What memory keeps of a keyframe's facts beyond text and labels; undefined when the engines gave none. */
export function clipScene(facts: FrameFacts, change?: 'still' | 'moving'): ClipScene | undefined {
  if (!facts.scene && !facts.people?.length) return undefined;
  return {
    colours: facts.scene?.colours ?? [],
    ...(facts.scene ? { brightness: facts.scene.brightness } : {}),
    ...(change ? { motion: change } : {}),
    objects: facts.objects.map((o) => ({
      label: o.label,
      count: o.count,
      ...(o.supercategory ? { supercategory: o.supercategory } : {}),
      ...(o.positions ? { positions: o.positions } : {}),
      ...(o.colours ? { colours: o.colours } : {}),
    })),
    people: (facts.people ?? []).map(({ box: _box, ...person }) => person),
  };
}
