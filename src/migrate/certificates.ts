// Ephemeral certificates for one migration, made with the system's openssl: a CA and one leaf for an
// IP address. CRIU's page-server TLS checks the peer's certificate name against its own --address on
// both ends, so one leaf carrying the page server's IP serves both the server and the client.
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CryoError } from '../errors.js';

export interface CertificateSet {
  /** PEM texts */
  ca: string;
  cert: string;
  key: string;
}

function runOpenssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 });
  if (r.error || r.status !== 0) {
    throw new CryoError('ENVIRONMENT', `openssl ${args[0]} failed: ${(r.error?.message ?? r.stderr ?? '').trim().split('\n')[0]}`, {
      hint: 'cryo needs the openssl binary to make the page server\'s certificates (apt-get install openssl)',
    });
  }
}

/** A fresh CA and a leaf for `ip` (valid one day), written into the private directory `dir` (0600 files) and returned as PEM. */
export function makeCertificates(dir: string, ip: string): CertificateSet {
  if (!isIP(ip)) throw new CryoError('USAGE', `expected an IP address for the certificate, got '${ip}'`, { hint: 'give addresses as IP:PORT' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  runOpenssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=cryo-migrate-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  runOpenssl(['req', ...ec, '-keyout', 'key.pem', '-out', 'leaf.csr', '-subj', `/CN=${ip}`], dir);
  writeFileSync(join(dir, 'leaf.ext'), `subjectAltName=IP:${ip}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n`, { mode: 0o600, flag: 'wx' });
  runOpenssl(['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', `0x${randomBytes(8).toString('hex')}`,
    '-days', '1', '-extfile', 'leaf.ext', '-out', 'cert.pem'], dir);
  for (const f of ['ca.key', 'ca.pem', 'key.pem', 'leaf.csr', 'leaf.ext', 'cert.pem']) chmodSync(join(dir, f), 0o600);
  return { ca: readFileSync(join(dir, 'ca.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
}

/** Writes a received set as ca.pem, cert.pem, key.pem (0600, new files) into the private directory `dir`; returns their paths. */
export function writeCertificates(dir: string, set: CertificateSet): { ca: string; cert: string; key: string } {
  const out = { ca: join(dir, 'ps-ca.pem'), cert: join(dir, 'ps-cert.pem'), key: join(dir, 'ps-key.pem') };
  writeFileSync(out.ca, set.ca, { mode: 0o600, flag: 'wx' });
  writeFileSync(out.cert, set.cert, { mode: 0o600, flag: 'wx' });
  writeFileSync(out.key, set.key, { mode: 0o600, flag: 'wx' });
  return out;
}
