/**
 * The delivery log's writes for one attempt, each one SQL statement: atomic without an interactive transaction,
 * and one round trip. (Data-modifying CTEs all run to completion, whether or not the main statement reads them.)
 */
import { randomUUID } from 'node:crypto';
import { Prisma, type Database } from '../../services/db/create-prisma-client.ts';

export interface AttemptRecord {
  messageId: string;
  attemptedAt: Date;
  statusCode: number | null;
  latencyMs: number;
  responseSnippet: string | null;
  error: string | null;
}

/** Logs a delivered attempt, marks its message delivered, and clears the endpoint's failing streak. */
export async function recordDeliveredAttempt(db: Database, attempt: AttemptRecord, endpointId: string, deliveredAt: Date): Promise<void> {
  await db.$executeRaw`
    WITH attempt AS (${insertAttempt(attempt)}),
    message AS (
      UPDATE webhook_messages
      SET attempt_count = attempt_count + 1, last_attempt_at = ${attempt.attemptedAt}, status = 'delivered', delivered_at = ${deliveredAt}
      WHERE id = ${attempt.messageId})
    UPDATE webhook_endpoints SET failing_since = NULL, updated_at = ${deliveredAt}
    WHERE id = ${endpointId}::uuid AND failing_since IS NOT NULL`;
}

/** Logs an attempt that did not deliver and counts it on its message; what follows is the caller's decision. */
export async function recordUndeliveredAttempt(db: Database, attempt: AttemptRecord): Promise<void> {
  await db.$executeRaw`
    WITH attempt AS (${insertAttempt(attempt)})
    UPDATE webhook_messages SET attempt_count = attempt_count + 1, last_attempt_at = ${attempt.attemptedAt}
    WHERE id = ${attempt.messageId}`;
}

// webhook_attempts.id has no database default (Prisma's @default(uuid()) is filled in by the client).
function insertAttempt(attempt: AttemptRecord): Prisma.Sql {
  return Prisma.sql`
    INSERT INTO webhook_attempts (id, message_id, attempted_at, status_code, latency_ms, response_snippet, error)
    VALUES (${randomUUID()}::uuid, ${attempt.messageId}, ${attempt.attemptedAt}, ${attempt.statusCode}, ${attempt.latencyMs}, ${attempt.responseSnippet}, ${attempt.error})`;
}
