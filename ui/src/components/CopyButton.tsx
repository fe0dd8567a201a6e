/** Copies a text to the clipboard and says so (to screen readers too). */
import { useState } from 'preact/hooks';

async function copy(text: string): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
  // http on another host than localhost has no Clipboard API: the old way.
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.className = 'visually-hidden';
  document.body.append(area);
  area.select();
  document.execCommand('copy');
  area.remove();
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState<'copied' | 'failed' | null>(null);
  const onClick = () => {
    copy(text).then(() => setDone('copied'), () => setDone('failed'));
    setTimeout(() => setDone(null), 2000);
  };
  return (
    <button type="button" class="copy" onClick={onClick}>
      {done === 'copied' ? 'Copied' : done === 'failed' ? 'Copy failed' : label}
      <span class="visually-hidden" role="status">{done === 'copied' ? 'Copied to the clipboard' : ''}</span>
    </button>
  );
}
