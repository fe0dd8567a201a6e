/** What a form sends, as curl (with a copy button), and what Graph answered the last time it was sent. */
import type { GraphAnswer } from '../api/http.ts';
import { CopyButton } from '../components/CopyButton.tsx';

export function CurlBlock({ command, label }: { command: string; label: string }) {
  return (
    <div class="curl">
      <div class="curl-head"><span>{label}</span><CopyButton text={command} label="Copy curl" /></div>
      <pre><code>{command}</code></pre>
    </div>
  );
}

export function Answer({ answer, error }: { answer: GraphAnswer | null; error: string | null }) {
  if (error) return <p class="answer bad" role="alert">{error}</p>;
  if (!answer) return null;
  const ok = answer.status >= 200 && answer.status < 300;
  const body = answer.body === null || answer.body === '' ? '' : JSON.stringify(answer.body, null, 2);
  return (
    <div class={`answer ${ok ? 'good' : 'bad'}`} role="status">
      <p><strong>HTTP {answer.status}</strong>{ok ? ' — done' : ''}</p>
      {body && <pre><code>{body}</code></pre>}
    </div>
  );
}
