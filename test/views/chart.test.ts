// The server-rendered bar chart: ten bars with their probability as data and as readable text.
import { describe, expect, test } from 'bun:test';
import { argmax, digitChart, formatPercent } from '../../src/views/chart.ts';
import { select } from '../helpers/html.ts';

const probabilities = [0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.52, 0.1, 0.1];

describe('digitChart', () => {
  test('ten bars, each with its digit and probability, in digit order', () => {
    const html = digitChart({ probabilities, position: 0, of: 1, id: 'chart' });
    const bars = select(html, '#chart [data-digit]');
    expect(bars.map((bar) => bar.attributes['data-digit'])).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(bars.map((bar) => Number(bar.attributes['data-probability']))).toEqual(probabilities);
  });

  test('the numbers read as text, and the most likely digit is marked', () => {
    const html = digitChart({ probabilities, position: 0, of: 1 });
    const bars = select(html, 'li.bar');
    expect(bars[7]?.text).toContain('52 %');
    expect(bars[0]?.text).toContain('1.0 %');
    expect(select(html, 'li.bar.top').map((bar) => bar.attributes['data-digit'])).toEqual(['7']);
    expect(select(html, 'figcaption')[0]?.text).toBe('Digit: 7 (52 %)');
  });

  test('bar lengths are SVG attributes, never style (the CSP forbids inline styles), and clamped', () => {
    const html = digitChart({ probabilities: [1.5, -0.2, 0, 0, 0, 0, 0, 0, 0, 0.25], position: 1, of: 3 });
    expect(html).not.toContain('style=');
    expect(select(html, 'rect').map((rect) => rect.attributes.width)).toEqual(['100.00', '0.00', '0.00', '0.00', '0.00', '0.00', '0.00', '0.00', '0.00', '25.00']);
    expect(select(html, 'figcaption')[0]?.text).toStartWith('Digit 2 of 3: 0');
    // No id unless asked: only one chart on the page may be #chart.
    expect(select(html, '[id]')).toEqual([]);
  });
});

test('formatPercent keeps small values distinguishable from zero', () => {
  expect(formatPercent(0)).toBe('0 %');
  expect(formatPercent(0.004)).toBe('0.4 %');
  expect(formatPercent(0.123)).toBe('12 %');
  expect(formatPercent(1)).toBe('100 %');
});

test('argmax picks the first of equal maxima', () => {
  expect(argmax([0.1, 0.4, 0.4, 0.1])).toBe(1);
  expect(argmax([1])).toBe(0);
});
