/** A form's sending state: busy while its request is out, then Graph's answer (or why nothing was sent). */
import { useState } from 'preact/hooks';
import type { GraphAnswer } from '../api/http.ts';
import { useStore } from '../lib/store.ts';
import { session } from '../state/session.ts';
import { send, type GraphRequest } from './send.ts';

export function useDevMode(): boolean {
  return useStore(session, (s) => s.status === 'ready' && s.session.authMode === 'dev');
}

export function useSender() {
  const devMode = useDevMode();
  const [busy, setBusy] = useState(false);
  const [answer, setAnswer] = useState<GraphAnswer | null>(null);
  const [error, setError] = useState<string | null>(null);
  const submit = async (request: GraphRequest) => {
    setBusy(true);
    setError(null);
    try {
      setAnswer((await send(request, devMode)).answer);
    } catch (err) {
      setAnswer(null);
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return { devMode, busy, answer, error, submit };
}
