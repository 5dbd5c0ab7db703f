/**
 * Progress of a long loop on stderr: a line rewritten in place on a terminal, a line every 10%
 * otherwise (CI logs), so stdout keeps only the tables.
 */
export class Progress {
  private readonly start = performance.now();
  private lastPrinted = -1;
  private readonly tty = process.stderr.isTTY === true;

  constructor(
    private readonly label: string,
    private readonly total: number,
  ) {}

  tick(done: number, detail = ''): void {
    const fraction = this.total === 0 ? 1 : done / this.total;
    const elapsed = (performance.now() - this.start) / 1000;
    const eta = fraction > 0 ? elapsed / fraction - elapsed : Number.NaN;
    const text = `  ${this.label}: ${done}/${this.total} (${Math.floor(fraction * 100)}%) ${elapsed.toFixed(0)} s elapsed${
      Number.isFinite(eta) && done < this.total ? `, ~${eta.toFixed(0)} s left` : ''
    }${detail ? `  ${detail}` : ''}`;
    if (this.tty) {
      process.stderr.write(`\r${text.padEnd(100).slice(0, Math.max(100, text.length))}`);
      if (done >= this.total) process.stderr.write('\n');
      return;
    }
    const decile = Math.floor(fraction * 10);
    if (decile !== this.lastPrinted) {
      this.lastPrinted = decile;
      process.stderr.write(`${text}\n`);
    }
  }

  done(detail = ''): void {
    this.tick(this.total, detail);
  }
}

/** A status line on stderr. */
export function status(message: string): void {
  process.stderr.write(`${message}\n`);
}
