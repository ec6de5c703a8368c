/**
 * The upload's body is a stream the route reads itself (it is never parsed, so no schema validates it): its
 * OpenAPI description is added here.
 */
type OpenApiDocument = Record<string, any>;

export function describeUploadBody(document: OpenApiDocument): OpenApiDocument {
  const upload = document.paths?.['/v1/reports']?.post;
  if (!upload) return document;
  const binary = { schema: { type: 'string', contentMediaType: 'application/octet-stream' } };
  upload.requestBody = {
    required: true,
    description: 'The transcript as uploaded: UTF-8, UTF-16 or Windows-1252 text, optionally gzip-compressed (detected by content). Multipart: the metadata fields, then the file as `transcript`.',
    content: {
      'text/plain': binary,
      'application/octet-stream': binary,
      'application/gzip': binary,
      'multipart/form-data': {
        schema: {
          type: 'object',
          required: ['server', 'transcript'],
          properties: {
            server: { type: 'string' },
            ticket: { type: 'string' },
            os: { type: 'string' },
            collectedAt: { type: 'string', format: 'date-time' },
            transcript: { type: 'string', contentMediaType: 'application/octet-stream' },
          },
        },
      },
    },
  };
  return document;
}
