/**
 * Controls for testers: the clock, tokens, and forms that change a user's presence through the Graph API with a
 * token of that user or app, each showing the same request as curl. The chosen user is kept in the address.
 */
import { navigate } from '../lib/hashRoute.ts';
import { ClockControls } from './ClockControls.tsx';
import { PreferredForm } from './PreferredForm.tsx';
import { SessionForm } from './SessionForm.tsx';
import { StatusMessageForm } from './StatusMessageForm.tsx';
import { TokenForm } from './TokenForm.tsx';

export function ControlsView({ user }: { user: string | null }) {
  const onUser = (id: string | null) => navigate({ name: 'controls', user: id }, true);
  return (
    <section class="controls" aria-labelledby="controls-title">
      <h1 id="controls-title">Controls</h1>
      <div class="panels">
        <ClockControls />
        <StatusMessageForm userId={user} onUser={onUser} />
        <SessionForm userId={user} onUser={onUser} />
        <PreferredForm userId={user} onUser={onUser} />
        <TokenForm userId={user} onUser={onUser} />
      </div>
    </section>
  );
}
