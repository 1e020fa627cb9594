export { HumanPeopleReader, boxFacts, facingOf, gesturesOf, handRaisedOf, observedFacts, personDistance, postureOf } from './people.ts';
export type { DescribedPerson, HumanPeopleOptions, Keypoint, PersonObservation } from './people.ts';
