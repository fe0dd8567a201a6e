/** The availability dot (decorative: the words next to it say the same). */
import { toneOf } from '../board/availability.ts';

export function Dot({ availability, outOfOffice = false, size = 'md' }: { availability: string; outOfOffice?: boolean; size?: 'sm' | 'md' }) {
  return <span class={`dot dot-${toneOf(availability)} dot-${size}${outOfOffice ? ' dot-ooo' : ''}`} aria-hidden="true" />;
}
