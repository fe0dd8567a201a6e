/**
 * Out of office through Graph's mailboxSettings, as use cases: reading a user's settings, and the two PATCH writes
 * (the whole settings, or only `automaticRepliesSetting`) as `Write`s of the presence write pipeline (./write.ts),
 * so the answer is read from the committed record, never from a variable the command wrote to.
 */
import { authorizeMailboxSettingsRead, authorizeMailboxSettingsWrite } from '../auth/permissions.ts';
import type { Principal } from '../auth/types.ts';
import {
  mailboxSettingsOf, parseAutomaticRepliesPatch, patchMailboxSettings, parseMailboxSettingsPatch, type MailboxSettings,
  type MailboxSettingsPatch,
} from '../domain/outOfOffice.ts';
import type { Store } from '../store/types.ts';
import type { PresenceService } from './service.ts';
import { commitWrite, userNotFound, type Write } from './write.ts';

/** The whole settings, or only their `automaticRepliesSetting`. */
export type Part = 'all' | 'automaticRepliesSetting';

/** The PATCH writes, by the part they address. */
export const MAILBOX_SETTINGS_WRITES: Record<Part, Write<MailboxSettingsPatch, null>> = {
  all: {
    name: 'updateMailboxSettings', authorize: authorizeMailboxSettingsWrite, whenAbsent: 'refuse',
    parse: parseMailboxSettingsPatch,
    command: patchMailboxSettings,
  },
  automaticRepliesSetting: {
    name: 'setAutomaticRepliesSetting', authorize: authorizeMailboxSettingsWrite, whenAbsent: 'refuse',
    parse: (body) => ({ automaticRepliesSetting: parseAutomaticRepliesPatch(body) }),
    command: patchMailboxSettings,
  },
};

export class MailboxSettingsService {
  constructor(
    private readonly presence: PresenceService,
    /** Reads the stored facts (the settings are not time-dependent, so no catch-up is needed). */
    private readonly store: Pick<Store, 'getPresence'>,
  ) {}

  /** The user's settings as the caller may read them. */
  async read(caller: Principal, userId: string): Promise<MailboxSettings> {
    authorizeMailboxSettingsRead(caller, userId);
    const record = await this.store.getPresence(caller.tenantId, userId);
    if (!record) throw userNotFound(userId);
    return mailboxSettingsOf(record.facts.outOfOffice);
  }

  /** Applies a PATCH of `part`; resolves to the settings as committed. */
  async patch(caller: Principal, userId: string, part: Part, body: unknown): Promise<MailboxSettings> {
    const committed = await commitWrite(this.presence, MAILBOX_SETTINGS_WRITES[part], {
      caller, userId, body, context: null,
    });
    return mailboxSettingsOf(committed.record.facts.outOfOffice);
  }
}
