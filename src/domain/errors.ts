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
