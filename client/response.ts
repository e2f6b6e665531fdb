import type { RemotingCommand } from '../common/protocol/command';
import { ResponseCode } from '../common/protocol/codes';
import { RemotingError } from '../common/protocol/errors';

/** Fails with the server's code and remark unless the response is one of `accepted`. */
export function expectCode(
  response: RemotingCommand,
  accepted: readonly number[] = [ResponseCode.SUCCESS],
): RemotingCommand {
  if (!accepted.includes(response.code)) throw responseError(response);
  return response;
}

/** The error an unexpected response stands for: its code and remark. */
export function responseError(response: RemotingCommand): RemotingError {
  return new RemotingError(response.code, response.remark ?? `response code ${response.code}`);
}
