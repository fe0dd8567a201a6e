/** The availability/activity pairs Graph accepts for a presence session and for a preferred presence. */
export const SESSION_STATES = [
  ['Available', 'Available'], ['Busy', 'InACall'], ['Busy', 'InAConferenceCall'], ['Away', 'Away'], ['DoNotDisturb', 'Presenting'],
] as const;

export const PREFERRED_STATES = [
  ['Available', 'Available'], ['Busy', 'Busy'], ['DoNotDisturb', 'DoNotDisturb'], ['BeRightBack', 'BeRightBack'], ['Away', 'Away'], ['Offline', 'OffWork'],
] as const;

/** expirationDuration choices: a session lives PT5M to PT4H, a preferred presence PT5M to P7D ('' = the default). */
export const SESSION_DURATIONS = ['PT5M', 'PT15M', 'PT30M', 'PT1H', 'PT4H'];
export const PREFERRED_DURATIONS = ['', 'PT1H', 'PT8H', 'P1D', 'P7D'];

export const DURATION_WORDS: Record<string, string> = {
  '': "Graph's default (1 or 7 days)",
  PT5M: '5 minutes', PT15M: '15 minutes', PT30M: '30 minutes', PT1H: '1 hour', PT4H: '4 hours', PT8H: '8 hours', P1D: '1 day', P7D: '7 days',
};

export const pairKey = (pair: readonly [string, string]) => `${pair[0]}/${pair[1]}`;
