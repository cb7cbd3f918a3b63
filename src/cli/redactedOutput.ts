// What the CLI prints passes the same redaction as what the engine writes to disk: a key an endpoint
// echoes in an error message, or a model in its text, never reaches the terminal or a CI log.
import { redactText } from '../core';

/** Redacts every later write to `stream` (strings, and bytes as UTF-8). */
export function redactWrites(stream: NodeJS.WriteStream): void {
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  const redacting = (chunk: unknown, ...rest: unknown[]): boolean => {
    if (typeof chunk === 'string') return write(redactText(chunk), ...rest);
    if (chunk instanceof Uint8Array) {
      const text = Buffer.from(chunk).toString('utf8');
      const clean = redactText(text);
      return write(clean === text ? chunk : Buffer.from(clean), ...rest);
    }
    return write(chunk, ...rest);
  };
  stream.write = redacting as typeof stream.write;
}
