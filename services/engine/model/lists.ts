/*
 * Lists in the model (a thread's IRPs, a process's threads, a lock's owners…) are plain arrays, but a hostile or
 * huge transcript can put tens of thousands of members in one: membership is then checked through a Set kept
 * beside the array, so adding stays O(1) instead of O(n) and reading the list stays linear.
 */
const INDEX_FROM = 16;
const indexes = new WeakMap<unknown[], Set<unknown>>();

function isMember<T>(list: T[], key: unknown, keyOf: (item: T) => unknown): boolean {
  if (list.length < INDEX_FROM) {
    for (const item of list) if (keyOf(item) === key) return true;
    return false;
  }
  let index = indexes.get(list);
  if (index === undefined) {
    index = new Set(list.map(keyOf));
    indexes.set(list, index);
  }
  return index.has(key);
}

function append<T>(list: T[], item: T, key: unknown): T[] {
  if (list.length === 0) return [item]; // exactly sized: `push` on an empty array reserves room for seventeen
  list.push(item);
  indexes.get(list)?.add(key);
  return list;
}

/** Adds `item` to `list` unless it is there, and returns the list to keep. */
export function addUnique<T>(list: T[], item: T): T[] {
  return isMember(list, item, (member) => member) ? list : append(list, item, item);
}

/** Adds `item` unless an item with the same key is there; returns the list to keep. */
export function addUniqueBy<T, K>(list: T[], item: T, keyOf: (item: T) => K): T[] {
  const key = keyOf(item);
  return isMember(list, key, keyOf) ? list : append(list, item, key);
}

/** The item with this key, if any (linear for short lists, indexed for long ones). */
export function findBy<T, K>(list: T[], key: K, keyOf: (item: T) => K): T | undefined {
  if (!isMember(list, key, keyOf)) return undefined;
  return list.find((item) => keyOf(item) === key);
}
