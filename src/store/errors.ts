/** Errors every Store implementation raises the same way, so callers need not know the backend. */

/** putUser was given a user principal name that another user already has (UPNs are unique, ignoring case). */
export class UpnTaken extends Error {
  constructor(readonly userPrincipalName: string) {
    super(`Another user already has the user principal name '${userPrincipalName}'.`);
    this.name = 'UpnTaken';
  }
}
