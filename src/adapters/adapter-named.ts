// src/adapters/ holds the two adapter families the actors work through: transport/ (how actors meet) and
// store/ (where results and models are kept), each with its interface, its adapters and its registry.
// Adapters import embedded/, protocol/ and flow/ only.
//
// Adapters are chosen by name (--transport, --store); asking for one this build lacks names those it has.
// Each family's registry (transport/registry.ts, store/registry.ts) is the one list of its adapters.

export class UnknownAdapterError extends Error {
  override readonly name = 'UnknownAdapterError';
}

export function adapterNamed<A>(family: string, registry: Readonly<Record<string, A>>, name: string): A {
  const adapter = Object.hasOwn(registry, name) ? registry[name] : undefined;
  if (!adapter) throw new UnknownAdapterError(`${family} '${name}' is not available in this build; available: ${Object.keys(registry).join(', ')}`);
  return adapter;
}
