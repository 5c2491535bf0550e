// Splits a byte stream into lines of at most `max` bytes without ever holding more than that:
// the bytes of a longer line are counted and dropped as they arrive, and the line is reported
// as oversized once its end is seen, so the next line is read as usual.

export interface LineHandlers {
  line: (text: string) => void;
  /** A line longer than the limit ended; `bytes` is its length without the newline. */
  oversized: (bytes: number) => void;
  /** A line with nothing but white space (for callers that number lines). */
  blank?: () => void;
}

export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private skipping = false;

  constructor(private readonly max: number, private readonly on: LineHandlers) {}

  push(chunk: Buffer): void {
    let start = 0;
    while (start <= chunk.length) {
      const nl = chunk.indexOf(10, start);
      const end = nl < 0 ? chunk.length : nl;
      const len = end - start;
      if (this.skipping) this.size += len;
      else if (this.size + len > this.max) {
        this.skipping = true;
        this.size += len;
        this.parts = [];
      } else if (len) {
        this.parts.push(chunk.subarray(start, end));
        this.size += len;
      }
      if (nl < 0) return;
      this.finish();
      start = nl + 1;
    }
  }

  /** The input ended: a last line without a newline counts as a line. */
  end(): void {
    if (this.size || this.skipping) this.finish();
  }

  private finish(): void {
    const { parts, size, skipping } = this;
    this.parts = [];
    this.size = 0;
    this.skipping = false;
    if (skipping) {
      this.on.oversized(size);
      return;
    }
    let text = parts.length === 1 ? parts[0]!.toString('utf8') : Buffer.concat(parts, size).toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (text.trim()) this.on.line(text);
    else this.on.blank?.();
  }
}
