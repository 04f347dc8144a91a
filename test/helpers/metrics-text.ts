// Reading the Prometheus text that /metrics serves.

/** One sample, by its name and labels exactly as printed (`name{label="value"}`); 0 when it is absent. */
export function sampleOf(metrics: string, series: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`${series} `));
  return Number(line?.slice(series.length + 1) ?? 0);
}
