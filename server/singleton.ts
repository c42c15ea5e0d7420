/**
 * One instance per process of a piece of state. The custom server (run by tsx) and the Next.js bundle load
 * server modules separately, so module-level variables would exist twice; globalThis is shared.
 */
export function processSingleton<T>(name: string, create: () => T): T {
  const key = Symbol.for(`portcullis.${name}`);
  const holder = globalThis as Record<symbol, unknown>;
  if (!(key in holder)) holder[key] = create();
  return holder[key] as T;
}
