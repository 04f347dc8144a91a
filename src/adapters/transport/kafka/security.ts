// How the Kafka transport proves who it is and whom it talks to: TLS (the brokers' certificates checked
// against a CA file, or the system's CAs) and SASL SCRAM (a user and password; the broker's ACLs then
// decide what that user may do, see acls.ts). Checked and read here, at start, by src/config.ts, so that a
// bad setting is one line and exit 2; no kafkajs here, so a local start does not pay for loading it.
import { readFileSync } from 'node:fs';
import { readCredentialFiles, Secret } from '../../../secret.ts';

export const SASL_MECHANISMS = ['scram-sha-256', 'scram-sha-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];
/** SCRAM-SHA-512 where a user is given without a mechanism: the stronger hash, and what Kafka's docs use. */
export const DEFAULT_SASL_MECHANISM: SaslMechanism = 'scram-sha-512';

export interface KafkaTls {
  /** PEM certificates of the CAs to trust; null: the system's. */
  readonly ca: string | null;
}

export interface KafkaSasl {
  readonly mechanism: SaslMechanism;
  readonly username: string;
  /** Prints and serialises as [redacted]; only the kafkajs client (client.ts) reveals it. */
  readonly password: Secret;
}

/** The flags and variables as given; `password` is STRATUS_KAFKA_SASL_PASSWORD (environment only). */
export interface KafkaSecurityInput {
  readonly ssl: boolean;
  readonly caFile: string | null;
  readonly mechanism: SaslMechanism | null;
  readonly username: string | null;
  readonly secretDir: string | null;
  readonly password: string | null;
}

export interface KafkaSecurity {
  /** null: plain TCP. */
  readonly tls: KafkaTls | null;
  /** null: no authentication (the broker sees User:ANONYMOUS). */
  readonly sasl: KafkaSasl | null;
}

/** A wrong setting: the message names the setting, never a secret's value. */
export class KafkaSettingsError extends Error {
  override readonly name = 'KafkaSettingsError';
}

/** Checks the combination and reads the files it names (CA, secret directory). */
export function resolveKafkaSecurity(input: KafkaSecurityInput): KafkaSecurity {
  if (input.caFile !== null && !input.ssl) throw new KafkaSettingsError('--kafka-ca-file needs --kafka-ssl (the CA checks the brokers\' TLS certificates)');
  const tls = input.ssl ? { ca: input.caFile === null ? null : readCa(input.caFile) } : null;
  return { tls, sasl: resolveSasl(input) };
}

function resolveSasl(input: KafkaSecurityInput): KafkaSasl | null {
  // A mounted Secret beats the environment, as --couchdb-secret-dir does: it is what Kubernetes rotates.
  const fromDir = input.secretDir === null ? null : readSecretDir(input.secretDir);
  const username = fromDir?.username ?? input.username;
  const password = fromDir?.password ?? input.password;
  if (username === null && password === null) {
    if (input.mechanism !== null) throw new KafkaSettingsError(`--kafka-sasl-mechanism ${input.mechanism} needs a user: --kafka-sasl-username and STRATUS_KAFKA_SASL_PASSWORD, or --kafka-secret-dir`);
    return null;
  }
  if (username === null) throw new KafkaSettingsError('STRATUS_KAFKA_SASL_PASSWORD is set but no user is: add --kafka-sasl-username (STRATUS_KAFKA_SASL_USERNAME)');
  if (password === null) throw new KafkaSettingsError(`--kafka-sasl-username ${username} needs a password: STRATUS_KAFKA_SASL_PASSWORD (environment only) or --kafka-secret-dir`);
  return Object.freeze({ mechanism: input.mechanism ?? DEFAULT_SASL_MECHANISM, username, password: new Secret(password) });
}

function readCa(path: string): string {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch {
    throw new KafkaSettingsError(`--kafka-ca-file: cannot read ${path}`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new KafkaSettingsError(`--kafka-ca-file: ${path} holds no PEM certificate`);
  return pem;
}

function readSecretDir(directory: string): { username: string; password: string } {
  return readCredentialFiles(directory, (problem) => new KafkaSettingsError(`--kafka-secret-dir: ${problem}`));
}
