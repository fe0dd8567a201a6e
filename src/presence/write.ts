/**
 * The one write pipeline of a user's presence record: every write (a presence action, a mailbox settings PATCH) is
 * a declarative `Write` — who may run it, how its body is read, and the pure command on the user's facts — and
 * `commitWrite` authorises, parses, applies it through the store's atomic update and returns the committed
 * transition. Routes only find the target and shape the answer.
 */
import type { Principal } from '../auth/types.ts';
import type { Transition } from '../domain/record.ts';
import type { PresenceFacts } from '../domain/types.ts';
import { presentBody, type AbsentBody } from '../platform/json/body.ts';
import { NotFound } from '../platform/json/errors.ts';
import type { PresenceService } from './service.ts';

/**
 * What a write's parser may need besides the body; a feature chooses its own (presence actions: the calling app,
 * which sessions belong to, and the configured limits).
 */
export interface Write<I, C = unknown> {
  /**
   * Graph's name of the operation (a PATCH, which has none, is named for what it does: `updateMailboxSettings`). It
   * is the `action` of the change's cause (the presenceChanged event, the dashboard's timeline).
   */
  name: string;
  /** Who may run it on whose presence: returns, or throws a 403 (or 400) AuthError. */
  authorize: (caller: Principal, userId: string) => void;
  /** What a request without a body means (see platform/json/body.ts). */
  whenAbsent: AbsentBody;
  /** The request body → the command's input; throws InvalidInput naming the property at fault. */
  parse: (body: unknown, context: C) => I;
  /**
   * The change: new facts from the current ones at `now`. Pure: it may run more than once (the store retries on a
   * conflicting write), and only the committed run counts.
   */
  command: (facts: PresenceFacts, input: I, now: number) => PresenceFacts;
}

/**
 * Runs a write on the user's presence as `caller`: authorise, then parse the body, then apply the command. Resolves
 * to the committed transition; a user that does not exist in the caller's tenant is a 404.
 */
export async function commitWrite<I, C>(
  presence: PresenceService,
  write: Write<I, C>,
  request: { caller: Principal; userId: string; body: unknown; context: C },
): Promise<Transition> {
  const { caller, userId } = request;
  write.authorize(caller, userId);
  const input = write.parse(presentBody(request.body, write.whenAbsent), request.context);
  const committed = await applyWrite(presence, write, caller, userId, input);
  if (!committed) throw userNotFound(userId);
  return committed;
}

/**
 * The last step of commitWrite: the command with its parsed input, applied to the user's record; nothing when the user
 * does not exist in the caller's tenant (undefined). The write express lane (./writeLane.ts) authorises and parses first.
 */
export function applyWrite<I, C>(presence: PresenceService, write: Write<I, C>, caller: Principal, userId: string, input: I): Promise<Transition | undefined> {
  return presence.apply(caller.tenantId, userId, (facts, now) => write.command(facts, input, now), {
    kind: 'api', action: write.name, appId: caller.appId, userId: caller.userId,
  });
}

export function userNotFound(userId: string): NotFound {
  return new NotFound(`User '${userId}' was not found in the caller's tenant.`);
}
