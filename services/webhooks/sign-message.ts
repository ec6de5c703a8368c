/**
 * Standard Webhooks signatures (HMAC-SHA256 over `{id}.{timestamp}.{body}`), made with the reference library so
 * receivers can verify with the same one in their language.
 */
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

export const SECRET_PREFIX = 'whsec_';

export interface SignMessageOptions {
  /** The message id (`msg_…`): the same on every retry of one event. */
  id: string;
  /** When this attempt is sent: receivers refuse a timestamp more than 5 minutes off their clock. */
  timestamp: Date;
  /** The exact bytes that will be sent: a re-serialised body no longer verifies. */
  body: string;
  /** `whsec_…` secrets. During a rotation, the new and the old one: each receiver verifies with whichever it holds. */
  secrets: readonly string[];
}

export interface WebhookSignatureHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

export function signMessage(options: SignMessageOptions): WebhookSignatureHeaders {
  if (options.secrets.length === 0) throw new TypeError('signMessage needs at least one secret');
  // The id and timestamp are joined with '.', so an id holding one could be shifted into the timestamp.
  if (options.id.includes('.')) throw new TypeError('a webhook message id must not contain "."');
  const signatures = options.secrets.map((secret) => new Webhook(secret).sign(options.id, options.timestamp, options.body));
  return {
    'webhook-id': options.id,
    'webhook-timestamp': String(Math.floor(options.timestamp.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
}

/** A new signing secret: `whsec_` and the base64 of 24 to 32 random bytes (the spec asks for at least 24). */
export function generateSecret(bytes = 32): string {
  if (!Number.isInteger(bytes) || bytes < 24 || bytes > 32) throw new RangeError('a webhook secret has 24 to 32 random bytes');
  return SECRET_PREFIX + randomBytes(bytes).toString('base64');
}
