// The dashboard's server-rendered charts: the right number of cells and points, counts readable,
// every label escaped. The renderers own their markup, so counting elements by pattern is exact.
import { describe, expect, test } from 'bun:test';
import { confusionHeatmapSvg } from '../../src/views/svg-heatmap.ts';
import { lineChartSvg } from '../../src/views/svg-line-chart.ts';

const count = (markup: string, pattern: RegExp) => (markup.match(pattern) ?? []).length;

describe('confusionHeatmapSvg', () => {
  const matrix = Array.from({ length: 10 }, (_, a) => Array.from({ length: 10 }, (_, p) => (a === p ? 970 + a : a + p)));

  test('one cell per entry, each showing its count', () => {
    const svg = confusionHeatmapSvg(matrix, { title: 'm' });
    expect(count(svg, /<g class="cell"/g)).toBe(100);
    expect(svg).toContain('data-actual="3" data-predicted="3" data-count="973"');
    expect(svg).toContain('data-actual="4" data-predicted="7" data-count="11"');
    expect(svg).toMatch(/data-actual="9" data-predicted="9"[^>]*><rect[^>]*\/><text[^>]*>979<\/text>/);
  });

  test('the diagonal and the worst mistake are darkest on their own scales; zero stays white', () => {
    const m = [
      [90, 10, 0],
      [0, 100, 0],
      [5, 0, 95],
    ];
    const fill = (svg: string, a: number, p: number) => new RegExp(`data-actual="${a}" data-predicted="${p}"[^>]*><rect[^>]*fill="(#[0-9a-f]{6})"`).exec(svg)?.[1];
    const svg = confusionHeatmapSvg(m, { title: 't' });
    expect(fill(svg, 0, 2)).toBe('#ffffff');
    expect(fill(svg, 0, 1)).toBe('#a50f15'); // the worst mistake: full red
    expect(fill(svg, 1, 1)).toBe('#084594'); // a perfect row: full blue
    expect(fill(svg, 2, 0)).not.toBe(fill(svg, 0, 1)); // half as bad, lighter
  });

  test('title and labels are escaped', () => {
    const svg = confusionHeatmapSvg([[1, 0], [0, 1]], { title: '<script>x</script>', labels: ['"a"', '<b>'] });
    expect(svg).not.toContain('<script>');
    expect(svg).not.toContain('<b>');
    expect(svg).toContain('&lt;script&gt;x&lt;/script&gt;');
    expect(svg).toContain('&quot;a&quot;');
  });
});

describe('lineChartSvg', () => {
  const epochs = [1, 2, 3, 4, 5, 6];
  const series = [
    { name: 'training loss', points: epochs.map((x) => ({ x, y: 1 / x })) },
    { name: 'validation loss', points: epochs.slice(0, 4).map((x) => ({ x, y: 1.2 / x })) },
  ];

  test('one polyline per series and one point per epoch measured', () => {
    const svg = lineChartSvg({ title: 'Loss', xLabel: 'epoch', series });
    expect(count(svg, /<polyline /g)).toBe(2);
    expect(count(svg, /<circle class="point"/g)).toBe(10);
    expect(count(svg, /<g class="series"/g)).toBe(2);
    // The polyline visits every point of its series.
    const first = /<polyline points="([^"]+)"/.exec(svg)?.[1] ?? '';
    expect(first.split(' ')).toHaveLength(6);
  });

  test('higher values are drawn higher (smaller y), within the plot', () => {
    const svg = lineChartSvg({ title: 'Loss', xLabel: 'epoch', series: [series[0]!], width: 400, height: 200 });
    const ys = [...svg.matchAll(/<circle class="point" cx="[^"]+" cy="([^"]+)"/g)].map((m) => Number(m[1]));
    expect(ys).toHaveLength(6);
    for (let i = 1; i < ys.length; i++) expect(ys[i]!).toBeGreaterThan(ys[i - 1]!); // loss falls → y grows
    for (const y of ys) expect(y >= 0 && y <= 200).toBe(true);
  });

  test('non-finite points are dropped, and an empty chart says so', () => {
    const svg = lineChartSvg({ title: 'A', xLabel: 'epoch', series: [{ name: 's', points: [{ x: 1, y: Number.NaN }, { x: 2, y: 0.5 }] }] });
    expect(count(svg, /<circle class="point"/g)).toBe(1);
    expect(svg).not.toContain('NaN');
    const empty = lineChartSvg({ title: 'Nothing', xLabel: 'epoch', series: [] });
    expect(empty).toContain('no data');
    expect(count(empty, /<circle/g)).toBe(0);
  });

  test('title, axis label, series names and formatted ticks are escaped', () => {
    const svg = lineChartSvg({
      title: '<img src=x onerror=alert(1)>',
      xLabel: 'a&b',
      series: [{ name: '"></g><script>', points: [{ x: 1, y: 0.5 }, { x: 2, y: 0.7 }] }],
      formatY: (y) => `<${y}>`,
    });
    expect(svg).not.toContain('<img');
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('a&amp;b');
    expect(svg).toContain('data-series="&quot;&gt;&lt;/g&gt;&lt;script&gt;"');
    expect(svg).toContain('&lt;0.5&gt;');
  });
});
