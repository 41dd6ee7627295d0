/** Nearest-rank percentile (p in 0..100) of unsorted values; undefined for no values. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  if (!(p >= 0 && p <= 100)) throw new RangeError('p must be within 0..100');
  const sorted = Float64Array.from(values).sort();
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

export interface Quantiles {
  p50: number | undefined;
  p95: number | undefined;
  count: number;
}

export function quantiles(values: readonly number[]): Quantiles {
  return { p50: percentile(values, 50), p95: percentile(values, 95), count: values.length };
}
