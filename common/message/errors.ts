/** Malformed or unencodable message data: a record, batch body, properties string, host or id. */
export class RecordError extends Error {
  override name = 'RecordError';
}
