/** A failure the viewer should know about, with what the server said and, when it can help, a retry. */
export function ErrorNote({ title, message, retry }: { title: string; message: string | null; retry?: () => void }) {
  return (
    <div class="error-note" role="alert">
      <p><strong>{title}</strong></p>
      {message && <p class="muted">{message}</p>}
      {retry && <button type="button" onClick={retry}>Try again</button>}
    </div>
  );
}
