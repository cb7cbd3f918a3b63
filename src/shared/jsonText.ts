// Large payloads cross into the webview as JSON text. A message is copied between frames (and
// processes) by structured clone, whose reading back of a graph of many small objects costs far more
// than JSON.parse of the same data as one string: a 10,000-event log took 110-240 ms to take in as
// objects in a cross-site frame (a VS Code webview is one), 30 ms as a string plus 20 ms to parse it.

/** The JSON text of a `T`; the type parameter keeps what it holds in the protocol's types. */
export type JsonText<T> = string & { readonly jsonOf?: T };

export function toJsonText<T>(value: T): JsonText<T> {
  return JSON.stringify(value) as JsonText<T>;
}

/** The value back. Trusts the sender to have written a `T` (the host writes these, from its own data). */
export function fromJsonText<T>(text: JsonText<T>): T {
  return JSON.parse(text) as T;
}
