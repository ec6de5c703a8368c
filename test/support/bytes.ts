/** Byte helpers shared by the tests that build uploads by hand. */
export function concatBytes(...parts: ArrayLike<number>[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** UTF-16 big-endian, without a BOM. */
export function utf16be(text: string): Uint8Array {
  const bytes = Buffer.from(text, 'utf16le');
  bytes.swap16();
  return new Uint8Array(bytes);
}
