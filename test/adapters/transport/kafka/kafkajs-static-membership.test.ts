// The group requests kafkajs sends, with the static member id this process registered for the group: the
// field KIP-345 added to JoinGroup v5, SyncGroup v3, Heartbeat v3 and LeaveGroup v3, which kafkajs encodes
// but never filled in. test/e2e/faults.test.ts restarts a consumer under load and sees no rebalance.
import { expect, test } from 'bun:test';
import Heartbeat from 'kafkajs/src/protocol/requests/heartbeat/index.js';
import JoinGroup from 'kafkajs/src/protocol/requests/joinGroup/index.js';
import { joinAsStaticMember } from '../../../../src/adapters/transport/kafka/kafkajs-static-membership.ts';
import { parseCli } from '../../../../src/config.ts';

/** The leading fields of an encoded request body, read as `layout` says: INT32s, and strings (an INT16
 * length, then UTF-8; -1 is null). */
async function fields(request: unknown, layout: ('string' | 'int32')[]): Promise<(string | number | null)[]> {
  const body = (await (request as { request: { encode(): Promise<{ buffer: Buffer }> } }).request.encode()).buffer;
  const out: (string | number | null)[] = [];
  let at = 0;
  for (const kind of layout) {
    if (kind === 'int32') {
      out.push(body.readInt32BE(at));
      at += 4;
      continue;
    }
    const length = body.readInt16BE(at);
    at += 2;
    out.push(length < 0 ? null : body.toString('utf8', at, at + length));
    at += Math.max(length, 0);
  }
  return out;
}

const join = (groupId: string, version: number) =>
  JoinGroup.protocol({ version })({ groupId, sessionTimeout: 10_000, rebalanceTimeout: 10_000, memberId: '', protocolType: 'consumer', groupProtocols: [] });

test('JoinGroup v5 carries the instance id registered for its group, and null for any other group', async () => {
  joinAsStaticMember('static-group', 'stratus-consumer-7');
  expect(await fields(join('static-group', 5), ['string', 'int32', 'int32', 'string', 'string'])).toEqual(['static-group', 10_000, 10_000, '', 'stratus-consumer-7']);
  expect(await fields(join('dynamic-group', 5), ['string', 'int32', 'int32', 'string', 'string'])).toEqual(['dynamic-group', 10_000, 10_000, '', null]);
  // An older version has no such field: the same request as before, the protocol type right after the member id.
  expect(await fields(join('static-group', 4), ['string', 'int32', 'int32', 'string', 'string'])).toEqual(['static-group', 10_000, 10_000, '', 'consumer']);
});

test('Heartbeat v3 names the static member too, so the coordinator can fence a stale process that still beats', async () => {
  joinAsStaticMember('beating-group', 'stratus-consumer-8');
  const beat = Heartbeat.protocol({ version: 3 })({ groupId: 'beating-group', groupGenerationId: 4, memberId: 'm-1' });
  expect(await fields(beat, ['string', 'int32', 'string', 'string'])).toEqual(['beating-group', 4, 'm-1', 'stratus-consumer-8']);
});

test('--kafka-group-instance-id and STRATUS_KAFKA_GROUP_INSTANCE_ID set it; none by default', () => {
  const instanceId = (argv: string[], env: Record<string, string> = {}) => {
    const action = parseCli(['--role', 'consumer', '--transport', 'kafka', '--kafka-brokers', '127.0.0.1:9092', ...argv], env);
    return action.kind === 'run' ? action.config.kafkaGroupInstanceId : `not a run: ${action.kind}`;
  };
  expect(instanceId([])).toBeNull();
  expect(instanceId(['--kafka-group-instance-id', 'stratus-consumer-abc12'])).toBe('stratus-consumer-abc12');
  expect(instanceId([], { STRATUS_KAFKA_GROUP_INSTANCE_ID: 'stratus-consumer-def34' })).toBe('stratus-consumer-def34');
});
