// Every message from the host to the webview crosses as the UTF-8 bytes of its JSON, in an
// ArrayBuffer. VS Code moves an ArrayBuffer of a webview message as binary from the extension host
// and transfers it into the webview's frame, so taking it in costs nothing; anything else is copied
// by structured clone, whose reading back in a fresh cross-site frame (a VS Code webview is one) was
// measured on a 10,000-event snapshot at 110-240 ms as objects, 15-50 ms as one string (the longer
// when the text is not all Latin-1) and 20-30 ms for the folded state's 100 KB of objects, against
// ~2 ms to decode the bytes. JSON.parse then costs what it costs either way.
// The webview's side (decoding) is the page's first script, in panelHtml.ts.

// shared/ is built with neither the DOM's types nor Node's; both have this, as the browser does.
declare const TextEncoder: new () => { encode(text: string): Uint8Array };

/** The UTF-8 JSON of a `T`; the type parameter keeps what it holds in the types. */
export type JsonBytes<T> = ArrayBuffer & { readonly jsonOf?: T };

export function toJsonBytes<T>(value: T): JsonBytes<T> {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  // A view of part of a larger buffer would send the whole buffer.
  const buffer = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : bytes.slice().buffer;
  return buffer as JsonBytes<T>;
}
