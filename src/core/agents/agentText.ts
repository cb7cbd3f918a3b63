// An agent's streamed words, turned into a few bounded `agent.text` events: pieces are coalesced
// (a paragraph, or whatever came in a quarter second), a step keeps at most AGENT_TEXT_STEP_CHARS,
// and every piece is redacted. A word still being written is held back until it is whole, so a key
// split across two pieces is still recognised (keys contain no whitespace).
import { redactText } from '../log/redact';

/** How long text waits for more before it is logged. */
export const AGENT_TEXT_FLUSH_MS = 250;
/** A piece reaching this size is logged at once. */
export const AGENT_TEXT_PIECE_CHARS = 1_500;
/** What one step keeps of its text; the rest is counted (`truncated`) and dropped. */
export const AGENT_TEXT_STEP_CHARS = 8_000;
/** A paragraph break logs what came before it, once there is this much. */
const PARAGRAPH_MIN_CHARS = 120;
/** A "word" longer than this is not held back any more (no key is this long). */
const MAX_HELD_CHARS = 512;

export interface AgentTextPiece {
  text: string;
  truncated?: number;
}

export class AgentTextStream {
  private buffer = '';
  private kept = 0;
  private dropped = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private ended = false;

  constructor(
    private readonly emit: (piece: AgentTextPiece) => void,
    private readonly flushMs = AGENT_TEXT_FLUSH_MS,
  ) {}

  push(delta: string): void {
    if (this.ended || !delta) return;
    const room = AGENT_TEXT_STEP_CHARS - this.kept - this.buffer.length;
    if (room <= 0) {
      this.dropped += delta.length;
      return;
    }
    if (delta.length > room) this.dropped += delta.length - room;
    this.buffer += delta.slice(0, room);
    if (this.buffer.length >= AGENT_TEXT_PIECE_CHARS) this.flush(false);
    else if (this.buffer.length >= PARAGRAPH_MIN_CHARS && /\n\s*\n/.test(delta)) this.flush(false);
    else this.timer ??= setTimeout(() => this.flush(false), this.flushMs);
  }

  /** Logs what is buffered; `all` includes a word still being written (a step boundary, the end). */
  flush(all = true): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    let cut = this.buffer.length;
    if (!all) {
      const tail = /\S+$/.exec(this.buffer)?.[0].length ?? 0;
      if (tail < MAX_HELD_CHARS) cut -= tail;
    }
    const text = this.buffer.slice(0, cut);
    this.buffer = this.buffer.slice(cut);
    if (this.buffer) this.timer = setTimeout(() => this.flush(true), this.flushMs);
    if (!text.trim()) {
      this.kept += text.length;
      return;
    }
    this.kept += text.length;
    this.send({ text: redactText(text) });
  }

  /** The turn was aborted: nothing more is logged (the run may have ended). */
  discard(): void {
    this.ended = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.buffer = '';
  }

  // A timer may fire after the run stopped taking events: the words are lost, the process is not.
  private send(piece: AgentTextPiece): void {
    try {
      this.emit(piece);
    } catch {
      this.discard();
    }
  }

  /** The turn is over: everything buffered is logged, then a note of what the cap left out. */
  end(): void {
    if (this.ended) return;
    this.flush(true);
    this.ended = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.dropped > 0) this.send({ text: '', truncated: this.dropped });
  }
}
