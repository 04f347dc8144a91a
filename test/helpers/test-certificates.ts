// A throwaway CA made with openssl, and a server certificate it signed for 127.0.0.1 and localhost: what
// the TLS tests give a server (the certificate and key) and a client (the CA to trust).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runOrThrow } from './process.ts';

export interface TestCertificates {
  /** PEM file of the CA: what a client is told to trust. */
  readonly ca: string;
  /** PEM files of the server's certificate and unencrypted (PKCS#8) key. */
  readonly cert: string;
  readonly key: string;
}

export function opensslMissing(): string | null {
  return spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0 ? null : 'openssl not installed';
}

const run = (args: string[], what: string) => runOrThrow('openssl', args, what);

/** Writes ca.pem, `<name>.crt` and `<name>.key` (and the files openssl makes on the way) into `dir`. */
export function makeCertificates(dir: string, name: string): TestCertificates {
  const at = (file: string) => join(dir, file);
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('ca.key'), '-out', at('ca.pem'), '-days', '2', '-subj', '/CN=stratus-test-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], 'making the test CA');
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', at(`${name}.key`), '-out', at(`${name}.csr`), '-subj', '/CN=127.0.0.1'], `making the ${name} key`);
  writeFileSync(at(`${name}.ext`), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n');
  run(['x509', '-req', '-in', at(`${name}.csr`), '-CA', at('ca.pem'), '-CAkey', at('ca.key'), '-CAcreateserial', '-out', at(`${name}.crt`), '-days', '2', '-extfile', at(`${name}.ext`)], `signing the ${name} certificate`);
  return { ca: at('ca.pem'), cert: at(`${name}.crt`), key: at(`${name}.key`) };
}
