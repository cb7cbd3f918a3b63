// Command output kept bounded: the head (what started, the first error) and the tail (the summary,
// the last error) matter; the middle of a long build log does not. One marker says what was dropped.

/** Keeps at most `limitBytes` of a byte stream: its first half and its last half. */
export class BoundedOutput {
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private droppedBytes = 0;

  constructor(private readonly limitBytes: number) {}

  get truncated(): boolean {
    return this.droppedBytes > 0;
  }

  push(chunk: Buffer | string): void {
    let rest = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    const headRoom = Math.floor(this.limitBytes / 2) - this.headBytes;
    if (headRoom > 0) {
      const part = rest.subarray(0, headRoom);
      this.head.push(part);
      this.headBytes += part.length;
      rest = rest.subarray(part.length);
      if (rest.length === 0) return;
    }
    this.tail.push(rest);
    this.tailBytes += rest.length;
    const tailMax = this.limitBytes - Math.floor(this.limitBytes / 2);
    while (this.tailBytes > tailMax) {
      const excess = this.tailBytes - tailMax;
      const first = this.tail[0];
      if (first.length <= excess) {
        this.tail.shift();
        this.tailBytes -= first.length;
        this.droppedBytes += first.length;
      } else {
        this.tail[0] = first.subarray(excess);
        this.tailBytes -= excess;
        this.droppedBytes += excess;
      }
    }
  }

  text(): string {
    // Decoded in one piece while nothing was dropped, so a character split across chunks stays whole.
    if (this.droppedBytes === 0) return Buffer.concat([...this.head, ...this.tail]).toString('utf8');
    return `${Buffer.concat(this.head).toString('utf8')}${omissionMarker(this.droppedBytes)}${Buffer.concat(this.tail).toString('utf8')}`;
  }
}

export function omissionMarker(droppedBytes: number): string {
  return `\n… [${droppedBytes} bytes of output omitted] …\n`;
}

/** The same bound over a text another runner captured (a host's), so the limit holds whoever ran it. */
export function boundText(text: string, limitBytes: number): { text: string; truncated: boolean } {
  if (Buffer.byteLength(text, 'utf8') <= limitBytes) return { text, truncated: false };
  const output = new BoundedOutput(limitBytes);
  output.push(text);
  return { text: output.text(), truncated: true };
}
