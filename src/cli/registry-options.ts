// The options every command that reaches a registry or an encrypted archive shares: --creds,
// --insecure, --encrypt, --key-file, --passphrase-file, read in one place.
import type { Command } from 'commander';
import { usageError } from '../errors.js';
import type { KeySpec, Secret } from '../checkpoint/crypto-key.js';
import type { OciSinkOptions } from '../checkpoint/sink-oci.js';

export interface RegistryCliOptions {
  creds?: string;
  insecure?: boolean;
  encrypt?: boolean;
  keyFile?: string;
  passphraseFile?: string;
}

export function addRegistryOptions(cmd: Command): Command {
  return cmd
    .option('--creds <user:pass>', 'registry credentials (default: REGISTRY_AUTH_FILE, then ~/.docker/config.json)')
    .option('--insecure', 'plain HTTP to a registry that is not on localhost');
}

export function addKeyOptions(cmd: Command, opts: { encrypt: boolean }): Command {
  if (opts.encrypt) cmd.option('--encrypt', 'encrypt with AES-256-GCM (docs/encryption.md); needs --key-file or --passphrase-file');
  return cmd
    .option('--key-file <file>', 'the key of an encrypted checkpoint: 32 bytes, raw or as 64 hex digits')
    .option('--passphrase-file <file>', 'or a passphrase (first line of the file), stretched with scrypt');
}

/** The secret the options name, or undefined; `writing` demands --encrypt to go with it. */
export async function secretFromCli(o: RegistryCliOptions, writing: boolean): Promise<Secret | undefined> {
  if (o.keyFile !== undefined && o.passphraseFile !== undefined) throw usageError('--key-file and --passphrase-file exclude each other', 'pass one of them');
  const spec: KeySpec | undefined = o.keyFile !== undefined ? { keyFile: o.keyFile } : o.passphraseFile !== undefined ? { passphraseFile: o.passphraseFile } : undefined;
  if (writing && o.encrypt && !spec) throw usageError('--encrypt needs --key-file FILE or --passphrase-file FILE', 'head -c 32 /dev/urandom > key && chmod 600 key; then add --key-file key');
  if (writing && spec && !o.encrypt) throw usageError(`${o.keyFile !== undefined ? '--key-file' : '--passphrase-file'} writes nothing encrypted without --encrypt`, 'add --encrypt');
  if (!spec) return undefined;
  const { readSecret } = await import('../checkpoint/crypto-key.js');
  return readSecret(spec);
}

/** What the registry sink and source need: credentials (given or stored), plain HTTP allowed, secret. */
export async function registryFromCli(ref: string, o: RegistryCliOptions, secret: Secret | undefined): Promise<OciSinkOptions> {
  const [{ parseOciRef }, { findCredentials, parseCreds }] = await Promise.all([import('../checkpoint/oci-ref.js'), import('../checkpoint/oci-auth.js')]);
  const { registry } = parseOciRef(ref, o.insecure);
  return { creds: o.creds !== undefined ? parseCreds(o.creds) : findCredentials(registry), insecure: o.insecure, secret };
}

/** An encrypted archive file read through decryption, as an archive stream; else undefined. */
export async function decryptedInput(path: string, secret: Secret | undefined): Promise<{ stream: AsyncIterable<Uint8Array>; name: string } | undefined> {
  const { isEncryptedFile, decryptBytes } = await import('../checkpoint/crypto-stream.js');
  if (!isEncryptedFile(path)) return undefined;
  if (!secret) throw usageError(`${path} is encrypted`, 'pass the --key-file (or --passphrase-file) it was encrypted with');
  const [{ createReadStream }, { resolve }] = await Promise.all([import('node:fs'), import('node:path')]);
  return { stream: decryptBytes(createReadStream(path, { highWaterMark: 1 << 20 }), secret, path), name: resolve(path) };
}
