import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Caller } from '../auth/api-keys.ts';
import type { ApiKeyAuthenticator } from '../auth/api-key-authenticator.ts';
import type { ApiKeyScope } from '../db/create-prisma-client.ts';
import { AppError } from './app-error.ts';

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
  }
  interface FastifyInstance {
    /** Set by buildApi: checks a key (services/auth/api-key-authenticator.ts). */
    authenticateKey: ApiKeyAuthenticator;
  }
}

/**
 * A preHandler that admits requests whose `Authorization: Bearer <key>` holds one of `scopes` (admin holds every
 * scope).
 */
export function requireScope(...scopes: ApiKeyScope[]) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const header = request.headers.authorization ?? '';
    const key = header.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : '';
    if (!key) throw new AppError('unauthenticated', 'send the API key as Authorization: Bearer <key>');
    let caller: Caller | null;
    try {
      caller = await request.server.authenticateKey(key);
    } catch (error) {
      throw new AppError('dependency-unavailable', 'the API key could not be checked', { cause: error });
    }
    if (!caller) throw new AppError('unauthenticated', 'the API key is not valid');
    if (!caller.scopes.has('admin') && !scopes.some((scope) => caller.scopes.has(scope))) {
      throw new AppError('forbidden', `this API key lacks the ${scopes.map((scope) => `"${scope}"`).join(' or ')} scope`);
    }
    request.caller = caller;
  };
}

export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new AppError('unauthenticated', 'no API key');
  return request.caller;
}
