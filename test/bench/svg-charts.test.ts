// The report's hand-written SVG charts: where points and bars land, escaping, and the empty cases.
import { describe, expect, test } from 'bun:test';
import { barChartSvg, lineChartSvg, niceStep } from '../../bench/report/svg-charts.ts';

/** The coordinates of the n-th polyline, as [x, y] pairs. */
function polyline(svg: string, n = 0): [number, number][] {
  const all = [...svg.matchAll(/<polyline[^>]* points="([^"]*)"/g)].map((m) => m[1]!);
  return all[n]!.split(' ').map((pair) => pair.split(',').map(Number) as [number, number]);
}

const rects = (svg: string) =>
  [...svg.matchAll(/<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="(#\w+)"><title>([^<]*)<\/title>/g)].map((m) => ({
    y: Number(m[2]),
    height: Number(m[4]),
    fill: m[5]!,
    title: m[6]!,
  }));

describe('niceStep', () => {
  test('steps of 1, 2 or 5 times a power of ten, about five to a range', () => {
    expect(niceStep(10)).toBe(2);
    expect(niceStep(1000)).toBe(200);
    expect(niceStep(7)).toBe(2);
    expect(niceStep(0.3)).toBeCloseTo(0.1, 10);
    expect(niceStep(24)).toBe(5);
    expect(niceStep(0)).toBe(1);
  });
});

describe('lineChartSvg', () => {
  const svg = lineChartSvg({
    title: 'Users <over> time & "more"',
    xLabel: 'seconds',
    yLabel: 'users',
    series: [
      { name: '10 users', points: [{ x: 0, y: 0 }, { x: 5, y: 10 }, { x: 10, y: 10 }] },
      { name: '50 <users>', points: [{ x: 0, y: 0 }, { x: 10, y: 50 }] },
    ],
  });

  test('one polyline per series; x spans the plot, y grows upwards from 0', () => {
    const first = polyline(svg, 0);
    const second = polyline(svg, 1);
    expect(first).toHaveLength(3);
    expect(first[0]![0]).toBeLessThan(first[2]![0]);
    expect(second[1]![0]).toBe(first[2]![0]); // both end at x = 10
    expect(first[0]![1]).toBe(second[0]![1]); // y = 0 at the same height
    expect(second[1]![1]).toBeLessThan(first[1]![1]); // 50 drawn above 10
    expect(first[1]![1]).toBe(first[2]![1]);
  });

  test('every text is escaped; the document is one svg element', () => {
    expect(svg).toContain('Users &lt;over&gt; time &amp; &quot;more&quot;');
    expect(svg).toContain('50 &lt;users&gt;');
    expect(svg).not.toContain('<over>');
    expect(svg.trim().startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
  });

  test('non-finite points are left out; a lone point is a dot', () => {
    const dot = lineChartSvg({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: [{ x: 1, y: Number.NaN }, { x: 2, y: 3 }] }] });
    expect(dot).not.toContain('<polyline');
    expect(dot).toContain('<circle');
  });

  test('no data says so', () => {
    const empty = lineChartSvg({ title: 'Empty', xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: [] }] });
    expect(empty).toContain('no data');
    expect(empty).not.toContain('<polyline');
  });
});

describe('barChartSvg', () => {
  const svg = barChartSvg({
    title: 'Per digit',
    yLabel: 'accuracy',
    groups: ['ours', 'paper'],
    bars: [
      { label: '0', values: [1, null] },
      { label: '7', values: [0.25, 0.5] },
    ],
    yMax: 1,
    formatValue: (v) => `${Math.round(v * 100)} %`,
  });

  test('bar heights are proportional to the values, groups in their own colours', () => {
    const bars = rects(svg);
    expect(bars.map((b) => b.title)).toEqual(['0 ours: 100 %', '7 ours: 25 %', '7 paper: 50 %']);
    expect(bars[0]!.height / bars[1]!.height).toBeCloseTo(4, 1);
    expect(bars[2]!.height / bars[1]!.height).toBeCloseTo(2, 1);
    expect(bars[0]!.fill).toBe(bars[1]!.fill);
    expect(bars[2]!.fill).not.toBe(bars[1]!.fill);
    // All stand on the same baseline.
    expect(new Set(bars.map((b) => (b.y + b.height).toFixed(0))).size).toBe(1);
  });

  test('a missing figure is written n/a, not drawn as zero', () => {
    expect(svg.match(/>n\/a</g)).toHaveLength(1);
  });
});

test('markers put a dot on every point of every series', () => {
  const svg = lineChartSvg({
    title: 'p',
    xLabel: 'users',
    yLabel: 'ms',
    markers: true,
    series: [
      { name: 'p50', points: [{ x: 10, y: 5 }, { x: 50, y: 9 }, { x: 200, y: 30 }] },
      { name: 'p99', points: [{ x: 10, y: 50 }, { x: 50, y: 90 }] },
    ],
  });
  expect(svg.match(/<circle /g)).toHaveLength(5);
  expect(lineChartSvg({ title: 'p', xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: [{ x: 1, y: 1 }, { x: 2, y: 2 }] }] })).not.toContain('<circle');
});
