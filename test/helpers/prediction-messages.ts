// The consumer's side of the wire in tests: the one answer in the reply to a message of one request.
import { decodeJson, type BatchReply, type PredictionReply } from '../../src/protocol/messages.ts';

export function onlyReply(bytes: Uint8Array): PredictionReply {
  const { replies } = decodeJson<BatchReply>(bytes);
  if (replies.length !== 1) throw new Error(`expected one answer, got ${replies.length}`);
  return replies[0] as PredictionReply;
}
