/**
 * Sends a fleet answer kept serialised by the fleet cache: as it is (no second JSON.stringify), with its entity tag,
 * and 304 Not Modified to a client that already holds it (If-None-Match; a browser's HTTP cache sends it itself).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import fresh from 'fresh';
import type { SerializedAnswer } from '../fleet/fleet-cache.ts';

export function sendAnswer(request: FastifyRequest, reply: FastifyReply, answer: SerializedAnswer): FastifyReply {
  // private: answers differ per API key's tenant; no-cache: a cache must ask again, which the tag makes cheap.
  reply.header('etag', answer.etag).header('cache-control', 'private, no-cache');
  if (fresh(request.headers, { etag: answer.etag })) return reply.code(304).send();
  return reply.type('application/json; charset=utf-8').send(answer.json);
}
