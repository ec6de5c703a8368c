/** Why an upload could not be read as a transcript. Stable codes; the message is for people. */
export type TranscriptErrorCode = 'not-a-text-transcript' | 'too-large';

/**
 * The one error the engine's reader throws on bad input. Callers match on `name`/`code`
 * (never on message text) to fail a job once instead of retrying it.
 */
export class TranscriptError extends Error {
  override readonly name = 'TranscriptError';
  constructor(
    readonly code: TranscriptErrorCode,
    readonly reason: string,
  ) {
    super(code === 'not-a-text-transcript' ? `not a text transcript: ${reason}` : `transcript too large: ${reason}`);
  }
}

export function isTranscriptError(error: unknown): error is TranscriptError {
  return error instanceof Error && error.name === 'TranscriptError';
}
