import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
  constructor(readonly limit: number) {
    super(`the transcript is larger than the limit of ${limit} bytes`);
  }
}

/** Passes bytes through while counting them and hashing them (SHA-256); errors past `limit` bytes. */
export class MeteredStream extends Transform {
  // Not `byteLength`: the S3 uploader reads a body's `byteLength` as its size before it is streamed.
  bytesSeen = 0;
  private readonly hash = createHash('sha256');

  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytesSeen += chunk.length;
    if (this.bytesSeen > this.limit) {
      callback(new BodyTooLargeError(this.limit));
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }

  /** Hex SHA-256 of everything that passed; call once the stream has ended. */
  sha256(): string {
    return this.hash.digest('hex');
  }
}
