import { createPrivateKey, type KeyObject } from 'node:crypto';
import { DockwardError, describeError } from '../errors.js';
import { subtle } from './crypto.js';

export const KEY_TYPES = ['ecdsa-p256', 'rsa-2048', 'rsa-4096'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

export function parseKeyType(value: string): KeyType {
  if ((KEY_TYPES as readonly string[]).includes(value)) return value as KeyType;
  throw new DockwardError('DW_E_KEY_TYPE', `unknown key type "${value}"`, {
    hint: `Use one of: ${KEY_TYPES.join(', ')}.`,
  });
}

/** The WebCrypto algorithm for generating, importing and signing with a key type. */
export function keyAlgorithm(type: KeyType): RsaHashedKeyGenParams | EcKeyGenParams {
  switch (type) {
    case 'ecdsa-p256':
      return { name: 'ECDSA', namedCurve: 'P-256' };
    case 'rsa-2048':
    case 'rsa-4096':
      return {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: type === 'rsa-2048' ? 2048 : 4096,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      };
  }
}

/** The signature algorithm a CA of this key type signs with (always SHA-256). */
export function signingAlgorithm(type: KeyType): Algorithm | EcdsaParams {
  return type === 'ecdsa-p256' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5' };
}

export async function generateKeyPair(type: KeyType): Promise<CryptoKeyPair> {
  return (await subtle.generateKey(keyAlgorithm(type), true, ['sign', 'verify'])) as CryptoKeyPair;
}

/**
 * PKCS#8 PEM of a private key. With a passphrase the key is encrypted (PBES2, AES-256-CBC), the
 * form `openssl pkey` and Node read. dockerd cannot read encrypted keys, so only CA keys use it.
 */
export async function exportPrivateKeyPem(key: CryptoKey, passphrase?: string): Promise<string> {
  const der = Buffer.from(await subtle.exportKey('pkcs8', key));
  const keyObject = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  if (passphrase === undefined) return keyObject.export({ format: 'pem', type: 'pkcs8' }).toString();
  return keyObject.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase }).toString();
}

export function isEncryptedPem(pem: string): boolean {
  return pem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----');
}

/** Which key type a private key is, from its own parameters. */
export function keyTypeOf(keyObject: KeyObject): KeyType {
  const details = keyObject.asymmetricKeyDetails;
  if (keyObject.asymmetricKeyType === 'ec' && details?.namedCurve === 'prime256v1') return 'ecdsa-p256';
  if (keyObject.asymmetricKeyType === 'rsa' && details?.modulusLength === 2048) return 'rsa-2048';
  if (keyObject.asymmetricKeyType === 'rsa' && details?.modulusLength === 4096) return 'rsa-4096';
  throw new DockwardError(
    'DW_E_KEY_TYPE',
    `unsupported key (${keyObject.asymmetricKeyType ?? 'unknown'} ${JSON.stringify(details ?? {})})`,
    { hint: `dockward works with ${KEY_TYPES.join(', ')} keys.` },
  );
}

/** Reads a PEM private key (encrypted or not) into a WebCrypto signing key. */
export async function importPrivateKeyPem(
  pem: string,
  passphrase?: string,
): Promise<{ key: CryptoKey; type: KeyType }> {
  let keyObject: KeyObject;
  const encrypted = isEncryptedPem(pem);
  if (encrypted && (passphrase === undefined || passphrase === '')) {
    throw new DockwardError('DW_E_PASSPHRASE', 'the CA key is encrypted and no passphrase was given', {
      hint: 'Set DOCKWARD_CA_PASSPHRASE or run the command on a terminal to be prompted.',
    });
  }
  try {
    keyObject = createPrivateKey(encrypted ? { key: pem, passphrase: passphrase ?? '' } : { key: pem });
  } catch (err) {
    if (encrypted) {
      throw new DockwardError('DW_E_PASSPHRASE', 'wrong passphrase for the CA key', {
        hint: 'Check DOCKWARD_CA_PASSPHRASE (or the passphrase you typed).',
        cause: err,
      });
    }
    throw new DockwardError('DW_E_STORE_CORRUPT', `cannot read the private key: ${describeError(err)}`, {
      cause: err,
    });
  }
  const type = keyTypeOf(keyObject);
  const der = keyObject.export({ format: 'der', type: 'pkcs8' });
  const algorithm =
    type === 'ecdsa-p256' ? keyAlgorithm(type) : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const key = await subtle.importKey('pkcs8', der, algorithm, false, ['sign']);
  return { key, type };
}
