/**
 * A request the domain refuses. The HTTP layer turns it into a Graph error (400 unless `status` says otherwise).
 * `property` names the offending JSON property path, e.g. `statusMessage.expiryDateTime.timeZone`.
 */
export class InvalidInput extends Error {
  constructor(
    message: string,
    readonly property?: string,
    readonly code: 'BadRequest' | 'InvalidArgument' = 'BadRequest',
  ) {
    super(message);
    this.name = 'InvalidInput';
  }
}

/** The request names something that does not exist (a presence session, say): 404 ResourceNotFound. */
export class NotFound extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFound';
  }
}

/** The request conflicts with what exists (a user principal name another user has, say): 409 Conflict. */
export class Conflict extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Conflict';
  }
}
