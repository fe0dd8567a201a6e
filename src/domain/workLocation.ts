/**
 * Work location (docs/api/work-location.md): manual > automatic > scheduled. setManualLocation / setAutomaticLocation set a
 * layer; clearAutomaticLocation clears the automatic one; clearLocation clears manual and automatic.
 */
import { factsWith, type PresenceFacts, type WorkLocationLayer, type WorkLocationType } from './types.ts';
import { readEnum, readObject, readString } from '../platform/json/validate.ts';

export const WORK_LOCATION_INPUTS: readonly WorkLocationType[] = ['office', 'remote', 'timeOff'];

export function parseWorkLocation(body: unknown): WorkLocationLayer {
  const root = readObject(body, '', ['workLocationType', 'placeId']);
  const workLocationType = readEnum(readString(root, 'workLocationType', '', { required: true }), WORK_LOCATION_INPUTS, 'workLocationType');
  const placeId = readString(root, 'placeId', '') ?? null;
  return { workLocationType, placeId: placeId === '' ? null : placeId };
}

export function setLocationLayer(facts: PresenceFacts, layer: 'manual' | 'automatic', value: WorkLocationLayer): PresenceFacts {
  return factsWith(facts, { workLocation: { ...facts.workLocation, [layer]: value } });
}

export function clearLocation(facts: PresenceFacts, which: 'automatic' | 'manualAndAutomatic'): PresenceFacts {
  return factsWith(facts, {
    workLocation: {
      ...facts.workLocation,
      automatic: null,
      manual: which === 'manualAndAutomatic' ? null : facts.workLocation.manual,
    },
  });
}
