// The one place a kafkajs client is made, so that every connection the transport opens (admin, producer,
// each subscription's consumer) carries the same TLS and SASL settings, and so does anything else that
// must reach a secured cluster (the tests' admin, which sets up users' ACLs).
import { Kafka, type KafkaConfig, type SASLOptions } from 'kafkajs';
import type { KafkaSecurity } from './security.ts';

export interface KafkaClientOptions extends Omit<KafkaConfig, 'brokers' | 'ssl' | 'sasl'> {
  readonly brokers: readonly string[];
  readonly security?: KafkaSecurity;
}

export function createKafkaClient({ brokers, security, ...rest }: KafkaClientOptions): Kafka {
  const tls = security?.tls ?? null;
  const sasl = security?.sasl ?? null;
  // kafkajs types each mechanism apart; both SCRAM variants take the same user and password.
  const saslOptions = sasl ? ({ mechanism: sasl.mechanism, username: sasl.username, password: sasl.password.reveal() } as SASLOptions) : null;
  return new Kafka({
    ...rest,
    brokers: [...brokers],
    // `true` trusts the system's CAs; a CA of one's own replaces them (Node's `ca`), as a private cluster wants.
    ...(tls ? { ssl: tls.ca === null ? true : { ca: [tls.ca] } } : {}),
    ...(saslOptions ? { sasl: saslOptions } : {}),
  });
}

/** The user a transport connects as, for messages: never the password. */
export function describeIdentity(security: KafkaSecurity | undefined): string {
  const sasl = security?.sasl;
  const who = sasl ? `user '${sasl.username}' (${sasl.mechanism})` : 'no SASL user';
  return `${who}, ${security?.tls ? 'TLS' : 'no TLS'}`;
}
