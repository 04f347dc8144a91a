// Static group membership (KIP-345) for kafkajs 2.2.4, which encodes group.instance.id in its JoinGroup v5,
// SyncGroup v3, Heartbeat v3 and LeaveGroup v3 requests but never fills it in (tulios/kafkajs#884).
//
// Why it matters: Kubernetes restarts a killed container (an OOM kill, a crash) inside the same pod within
// seconds. Without an instance id the restarted consumer joins as a new member while its dead self is still
// in the group; every member then stops and waits in the rebalance until the dead one's session runs out.
// Measured (test/e2e/faults.test.ts, two consumers, 10 s sessions): requests waited up to 9.4 s, a p99
// of 9.4 s over the 15 s after the kill. With the pod's name as instance id, the coordinator knows the
// newcomer as the member it replaces and hands back that member's partitions, with no rebalance at all.
//
// kafkajs looks a request's encoder up by name at each call (protocol/requests/index.js, `lookup`), so
// wrapping the four encoders is enough: each reads the instance id registered for the request's group.
// Registered per group id, one per process: a process is one member of each group it joins.
import Heartbeat from 'kafkajs/src/protocol/requests/heartbeat/index.js';
import JoinGroup from 'kafkajs/src/protocol/requests/joinGroup/index.js';
import LeaveGroup from 'kafkajs/src/protocol/requests/leaveGroup/index.js';
import SyncGroup from 'kafkajs/src/protocol/requests/syncGroup/index.js';

const instanceIds = new Map<string, string>();

/** From now on this process joins `groupId` as the static member `instanceId`. */
export function joinAsStaticMember(groupId: string, instanceId: string): void {
  instanceIds.set(groupId, instanceId);
}

for (const definition of [JoinGroup, SyncGroup, Heartbeat, LeaveGroup]) {
  const protocol = definition.protocol;
  definition.protocol = ({ version }) => {
    const encode = protocol({ version });
    // Versions before the ones named above take no instance id and ignore the field.
    return (args) => encode({ ...args, groupInstanceId: instanceIds.get(String(args.groupId)) ?? null });
  };
}
