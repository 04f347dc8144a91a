// What each role's Kafka user may do, as the transport uses Kafka: the ACLs an operator grants on a broker
// with an authorizer (the table in docs/cluster.md), and the ones the SASL tests grant their broker, so that
// a topic or group the code starts to use without a line here fails those tests. Every role creates the
// topics it uses if they are missing (the transport does not assume an operator made them), hence CREATE on
// each. READ and WRITE imply DESCRIBE in Kafka, so it is never listed.
import { GROUP, TOPIC } from '../../../protocol/topics.ts';
import { deadLetterTopic } from '../transport.ts';
import { SHORT_LIVED_TOPIC_PREFIX } from './topics.ts';

export type AclOperation = 'READ' | 'WRITE' | 'CREATE' | 'DELETE';

export interface KafkaAcl {
  readonly resource: 'topic' | 'group';
  /** literal: this one name; prefixed: every name that starts with it. */
  readonly pattern: 'literal' | 'prefixed';
  readonly name: string;
  readonly operations: readonly AclOperation[];
}

/** `admin` is a gateway that serves the model admin endpoints: a gateway that may also announce a model. */
export const ACL_ROLES = ['gateway', 'admin', 'consumer', 'trainer'] as const;
export type AclRole = (typeof ACL_ROLES)[number];

/** The prefix of every reply inbox (request-reply.ts names them `stratus.replies.<instance>`) and of its group. */
export const REPLY_INBOX_PREFIX = 'stratus.replies.';

const topic = (name: string, ...operations: AclOperation[]): KafkaAcl => ({ resource: 'topic', pattern: 'literal', name, operations });
const topics = (prefix: string, ...operations: AclOperation[]): KafkaAcl => ({ resource: 'topic', pattern: 'prefixed', name: prefix, operations });
const group = (name: string): KafkaAcl => ({ resource: 'group', pattern: 'literal', name, operations: ['READ'] });
const groups = (prefix: string): KafkaAcl => ({ resource: 'group', pattern: 'prefixed', name: prefix, operations: ['READ'] });

// A subscription also makes its topic's dead-letter topic and writes there what its handler gives up on.
const GATEWAY: readonly KafkaAcl[] = [
  topic(TOPIC.predictions, 'CREATE', 'WRITE'),
  topic(TOPIC.modelAnnouncements, 'CREATE', 'READ'),
  topic(deadLetterTopic(TOPIC.modelAnnouncements), 'CREATE', 'WRITE'),
  groups(GROUP.gatewayAnnouncements('')),
  // Its own inbox, made at start and deleted at stop. One user for every gateway, so a gateway could read
  // another's: Kafka's ACLs cannot tell replicas apart without a user each.
  topics(REPLY_INBOX_PREFIX, 'CREATE', 'READ', 'DELETE'),
  groups(REPLY_INBOX_PREFIX),
];

const ANNOUNCE_MODEL: readonly KafkaAcl[] = [topic(TOPIC.modelUpdated, 'CREATE', 'WRITE')];

const CONSUMER: readonly KafkaAcl[] = [
  topic(TOPIC.predictions, 'CREATE', 'READ'),
  topic(deadLetterTopic(TOPIC.predictions), 'CREATE', 'WRITE'),
  group(GROUP.consumers),
  topic(TOPIC.modelUpdated, 'CREATE', 'READ'),
  topic(deadLetterTopic(TOPIC.modelUpdated), 'CREATE', 'WRITE'),
  groups(GROUP.consumerModelUpdates('')),
  topic(TOPIC.modelAnnouncements, 'CREATE', 'WRITE'),
  // Replies go to the requester's inbox; no READ: a consumer cannot read anyone's replies.
  topics(REPLY_INBOX_PREFIX, 'WRITE'),
];

const TRAINER: readonly KafkaAcl[] = [
  ...ANNOUNCE_MODEL,
  // A run across processes (--world-size > 1) exchanges on its own topics, one group per rank.
  topics(SHORT_LIVED_TOPIC_PREFIX, 'CREATE', 'READ', 'WRITE'),
  groups(SHORT_LIVED_TOPIC_PREFIX),
];

const BY_ROLE: Readonly<Record<AclRole, readonly KafkaAcl[]>> = {
  gateway: GATEWAY,
  admin: [...GATEWAY, ...ANNOUNCE_MODEL],
  consumer: CONSUMER,
  trainer: TRAINER,
};

/** The ACLs a role's user needs (allow rules; the authorizer denies everything else). */
export function kafkaAcls(role: AclRole): readonly KafkaAcl[] {
  return BY_ROLE[role];
}
