/**
 * Thrown by a request handler to answer with a specific RocketMQ response code and remark,
 * e.g. `throw new RemotingError(ResponseCode.TOPIC_NOT_EXIST, 'No topic route info …')`.
 */
export class RemotingError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}
