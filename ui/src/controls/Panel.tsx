/** A control's frame: its title, one line on what it does, the form, and what it sends as curl with the answer. */
import type { ComponentChildren } from 'preact';
import type { GraphAnswer } from '../api/http.ts';
import { Answer, CurlBlock } from './RequestPanel.tsx';

export interface PanelProps {
  id: string;
  title: string;
  intro: ComponentChildren;
  children: ComponentChildren;
  curl?: string;
  answer?: GraphAnswer | null;
  error?: string | null;
}

export function Panel({ id, title, intro, children, curl, answer = null, error = null }: PanelProps) {
  return (
    <section class="panel" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{title}</h2>
      <p class="muted">{intro}</p>
      {children}
      {curl && <CurlBlock command={curl} label="The same request with curl" />}
      <Answer answer={answer} error={error} />
    </section>
  );
}

/** A labelled form field. */
export function Field({ id, label, hint, children }: { id: string; label: string; hint?: string; children: ComponentChildren }) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children}
      {hint && <small id={`${id}-hint`} class="muted">{hint}</small>}
    </div>
  );
}
