/**
 * @peculiar/x509 2.x resolves its services through tsyringe, which refuses to load unless a
 * Reflect metadata polyfill is present. No polyfill package is installed, and tsyringe needs only
 * these three functions, so this installs a minimal one. It never replaces an existing polyfill.
 */

type MetadataKey = unknown;
type PropertyKey_ = string | symbol | undefined;

const store = new WeakMap<object, Map<PropertyKey_, Map<MetadataKey, unknown>>>();

function ownMap(target: object, property: PropertyKey_, create: boolean): Map<MetadataKey, unknown> | undefined {
  let byProperty = store.get(target);
  if (!byProperty) {
    if (!create) return undefined;
    byProperty = new Map();
    store.set(target, byProperty);
  }
  let entries = byProperty.get(property);
  if (!entries && create) {
    entries = new Map();
    byProperty.set(property, entries);
  }
  return entries;
}

interface ReflectMetadata {
  defineMetadata(key: MetadataKey, value: unknown, target: object, property?: PropertyKey_): void;
  getOwnMetadata(key: MetadataKey, target: object, property?: PropertyKey_): unknown;
  getMetadata(key: MetadataKey, target: object, property?: PropertyKey_): unknown;
}

export function ensureReflectMetadata(): void {
  const reflect = Reflect as unknown as Partial<ReflectMetadata>;
  if (typeof reflect.getMetadata === 'function') return;
  const shim: ReflectMetadata = {
    defineMetadata(key, value, target, property) {
      ownMap(target, property, true)?.set(key, value);
    },
    getOwnMetadata(key, target, property) {
      return ownMap(target, property, false)?.get(key);
    },
    getMetadata(key, target, property) {
      for (let current: object | null = target; current !== null; current = Object.getPrototypeOf(current) as object | null) {
        const entries = ownMap(current, property, false);
        if (entries?.has(key)) return entries.get(key);
      }
      return undefined;
    },
  };
  Object.assign(Reflect, shim);
}
