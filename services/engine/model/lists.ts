/**
 * Adds `item` to `list` unless it is there, and returns the list to keep. A list's first item makes an array of
 * exactly one element: `push` on an empty array reserves room for seventeen, and a model holds millions of lists.
 */
export function addUnique<T>(list: T[], item: T): T[] {
  if (list.length === 0) return [item];
  if (!list.includes(item)) list.push(item);
  return list;
}
