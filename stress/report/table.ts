/** Plain-text tables for the terminal: fixed columns, right-aligned numbers. */

export function formatTable(headers: string[], rows: (string | number | undefined)[][]): string {
  const cells = rows.map((r) => r.map((c) => (c === undefined ? '-' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

export function fixed(n: number | undefined, digits = 0): string | undefined {
  return n === undefined || !Number.isFinite(n) ? undefined : n.toFixed(digits);
}

/** A row formatter whose header is printed once, for tables that grow while a run goes on. */
export class LiveTable {
  private widths: number[];
  constructor(
    private readonly headers: string[],
    private readonly out: (line: string) => void,
    minWidth = 7,
    /** Widths of the first columns when their values are longer than their headers. */
    firstWidths: number[] = [],
  ) {
    this.widths = headers.map((h, i) => Math.max(h.length, minWidth, firstWidths[i] ?? 0));
    this.out(this.fmt(headers));
    this.out(this.fmt(this.widths.map((w) => '-'.repeat(w))));
  }

  row(values: (string | number | undefined)[]): void {
    this.out(this.fmt(values.map((v) => (v === undefined ? '-' : String(v)))));
  }

  private fmt(cells: string[]): string {
    return cells.map((c, i) => (i === 0 ? c.padEnd(this.widths[i]!) : c.padStart(this.widths[i]!))).join(' ');
  }
}
