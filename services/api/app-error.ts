/**
 * The API's one error type: a stable code and an HTTP status. Services throw it; the HTTP edge alone turns it into
 * application/problem+json (RFC 9457).
 */
export type AppErrorCode =
  | 'unauthenticated'
  | 'forbidden'
  | 'not-found'
  | 'bad-request'
  | 'payload-too-large'
  | 'unsupported-media-type'
  | 'conflict'
  | 'dependency-unavailable'
  | 'internal';

const STATUS: Record<AppErrorCode, number> = {
  unauthenticated: 401,
  forbidden: 403,
  'not-found': 404,
  'bad-request': 400,
  'payload-too-large': 413,
  'unsupported-media-type': 415,
  conflict: 409,
  'dependency-unavailable': 503,
  internal: 500,
};

const TITLE: Record<AppErrorCode, string> = {
  unauthenticated: 'Missing or invalid API key',
  forbidden: 'The API key lacks the scope this needs',
  'not-found': 'Not found',
  'bad-request': 'Bad request',
  'payload-too-large': 'Transcript too large',
  'unsupported-media-type': 'Unsupported content type',
  conflict: 'Conflict',
  'dependency-unavailable': 'A dependency is unavailable; retry later',
  internal: 'Internal error',
};

export class AppError extends Error {
  override readonly name = 'AppError';
  readonly status: number;
  readonly title: string;

  constructor(
    readonly code: AppErrorCode,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(detail, options);
    this.status = STATUS[code];
    this.title = TITLE[code];
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof Error && error.name === 'AppError';
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: AppErrorCode;
  instance?: string;
}

export function toProblem(error: AppError, instance?: string): Problem {
  return { type: `https://hangsleuth.dev/problems/${error.code}`, title: error.title, status: error.status, detail: error.message, code: error.code, ...(instance ? { instance } : {}) };
}
