/**
 * Availability as Teams shows it: a coloured dot (green Available, red Busy and Do not disturb, yellow Away and Be
 * right back, grey Offline, a purple marker for out of office) and words, so colour is never the only sign.
 */
export type Tone = 'available' | 'busy' | 'dnd' | 'away' | 'offline' | 'unknown';

const TONES: Record<string, Tone> = {
  Available: 'available',
  AvailableIdle: 'available',
  Busy: 'busy',
  BusyIdle: 'busy',
  DoNotDisturb: 'dnd',
  Away: 'away',
  BeRightBack: 'away',
  Offline: 'offline',
  PresenceUnknown: 'unknown',
};

export function toneOf(availability: string): Tone {
  return TONES[availability] ?? 'unknown';
}

const WORDS: Record<string, string> = {
  AvailableIdle: 'Available, idle',
  BusyIdle: 'Busy, idle',
  DoNotDisturb: 'Do not disturb',
  BeRightBack: 'Be right back',
  PresenceUnknown: 'Unknown',
  OffWork: 'Off work',
  InACall: 'In a call',
  InAConferenceCall: 'In a conference call',
  InAMeeting: 'In a meeting',
  OutOfOffice: 'Out of office',
  UrgentInterruptionsOnly: 'Urgent interruptions only',
  AvailableInactive: 'Available, inactive',
};

/** "DoNotDisturb" → "Do not disturb"; an unknown value split at its capitals. */
export function words(value: string): string {
  return WORDS[value] ?? value.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/ (\w)/g, (_, c: string) => ` ${c.toLowerCase()}`);
}

/** The filters of the board, in the order of its chips. */
export const FILTERS: Array<{ id: string; label: string; matches: (availability: string, ooo: boolean) => boolean }> = [
  { id: 'available', label: 'Available', matches: (a) => toneOf(a) === 'available' },
  { id: 'busy', label: 'Busy', matches: (a) => toneOf(a) === 'busy' },
  { id: 'dnd', label: 'Do not disturb', matches: (a) => toneOf(a) === 'dnd' },
  { id: 'away', label: 'Away', matches: (a) => toneOf(a) === 'away' },
  { id: 'offline', label: 'Offline', matches: (a) => toneOf(a) === 'offline' },
  { id: 'unknown', label: 'Unknown', matches: (a) => toneOf(a) === 'unknown' },
  { id: 'ooo', label: 'Out of office', matches: (_, ooo) => ooo },
];
