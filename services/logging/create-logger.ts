import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs; every line about a report carries its `reportId`. */
export function createLogger(level: string, name: string): Logger {
  return pino({ level, name, base: { service: name }, timestamp: pino.stdTimeFunctions.isoTime });
}
