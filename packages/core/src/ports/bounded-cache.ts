/**
 * A map that bounds its own size by evicting entries, such as lru-cache's `LRUCache` (which fits as is).
 * Core defines only the shape, so that it keeps one runtime dependency; the composition root chooses
 * the implementation and its size.
 */
export interface BoundedCache<K, V> {
  get(key: K): V | undefined;
  set(key: K, value: V): unknown;
  delete(key: K): unknown;
}
