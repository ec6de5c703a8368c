/**
 * Cursor pagination, shared by every list of the API. A cursor is opaque to clients: the sort
 * key and id of the last item of the page, base64url-encoded JSON.
 */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface CursorPosition {
  /** The last item's sort value (a number, or an ISO time). */
  value: number | string;
  id: string;
}

export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
}

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.value, position.id])).toString('base64url');
}

export function decodeCursor(cursor: string): CursorPosition {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(decoded) && decoded.length === 2 && (typeof decoded[0] === 'number' || typeof decoded[0] === 'string') && typeof decoded[1] === 'string') {
      return { value: decoded[0], id: decoded[1] };
    }
  } catch {
    // falls through to the error below
  }
  throw new InvalidCursorError('the cursor is not one this API handed out');
}

/** Cuts a page fetched with `limit + 1` rows: the extra row only says there is a next page. */
export function pageOf<Row, Item>(rows: Row[], limit: number, toItem: (row: Row) => Item, positionOf: (row: Row) => CursorPosition): Page<Item> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items: items.map(toItem), nextCursor: rows.length > limit && last !== undefined ? encodeCursor(positionOf(last)) : null };
}
