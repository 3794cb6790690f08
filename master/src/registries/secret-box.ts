// Secrets the master must give back later (registry passwords) are kept encrypted at rest:
// AES-256-GCM with a random 96-bit IV per secret and a key generated once into the data dir
// (config/secrets.ts, `credentials-key`, mode 0600). The additional data binds a ciphertext to
// its owner and registry, so a record moved to another user or registry does not decrypt.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { WharfError } from '../errors.js';
import type { EncryptedSecret } from '../records/registry-credential.js';

export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('a SecretBox key is 32 bytes');
  }

  seal(plain: string, context: string): EncryptedSecret {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return { iv: iv.toString('base64url'), tag: cipher.getAuthTag().toString('base64url'), data: data.toString('base64url') };
  }

  /** Throws `internal` when the secret does not open with this key and context (another data dir's key, a moved record). */
  open(sealed: EncryptedSecret, context: string): string {
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(sealed.iv, 'base64url'));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(sealed.tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64url')), decipher.final()]).toString('utf8');
    } catch (error: unknown) {
      throw new WharfError('internal', 'a stored secret does not decrypt with this master\'s credentials key', { cause: error });
    }
  }
}
