/**
 * Light and dark: the system's choice (prefers-color-scheme) unless the viewer picked one with the toggle, which is
 * remembered in localStorage. The choice is `data-theme` on <html>; the stylesheet does the rest.
 */
import { Store } from '../lib/store.ts';

export type ThemeChoice = 'system' | 'light' | 'dark';
const KEY = 'presently.theme';

function stored(): ThemeChoice {
  try {
    const value = localStorage.getItem(KEY);
    return value === 'light' || value === 'dark' ? value : 'system';
  } catch {
    return 'system';
  }
}

export const theme = new Store<ThemeChoice>(stored());

const systemDark = () => matchMedia('(prefers-color-scheme: dark)').matches;

/** The theme in effect: the choice, or the system's. */
export function effectiveTheme(choice: ThemeChoice = theme.get()): 'light' | 'dark' {
  return choice === 'system' ? (systemDark() ? 'dark' : 'light') : choice;
}

function apply(choice: ThemeChoice): void {
  const root = document.documentElement;
  if (choice === 'system') root.removeAttribute('data-theme');
  else root.setAttribute('data-theme', choice);
}

/** Applies the stored choice (call once, before the first render). */
export function initTheme(): void {
  apply(theme.get());
  theme.subscribe((choice) => {
    apply(choice);
    try {
      if (choice === 'system') localStorage.removeItem(KEY);
      else localStorage.setItem(KEY, choice);
    } catch {
      // private mode: the choice lasts for this page only
    }
  });
}

/** The toggle: to the opposite of what is shown now (so the first press always changes what the viewer sees). */
export function toggleTheme(): void {
  theme.set(effectiveTheme() === 'dark' ? 'light' : 'dark');
}
