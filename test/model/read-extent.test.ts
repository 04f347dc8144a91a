// readExtent: the top-left corner of the image that a network of valid windows reads.
import { expect, test } from 'bun:test';
import { readExtent } from '../../src/model/onnx/read-extent.ts';
import type { LayerSpec } from '../../src/model/onnx/layers-model-files.ts';

const conv = (kernel: number, extra: Record<string, unknown> = {}): LayerSpec => ({ className: 'Conv2D', name: 'conv', config: { kernel_size: [kernel, kernel], ...extra } });
const pool = (size: number, extra: Record<string, unknown> = {}): LayerSpec => ({ className: 'MaxPooling2D', name: 'pool', config: { pool_size: [size, size], ...extra } });
const flatten: LayerSpec = { className: 'Flatten', name: 'flatten', config: {} };

test('two conv blocks of 3 × 3 and pools of 2 read 26 of 28 rows and columns; one block reads them all', () => {
  expect(readExtent([conv(3), pool(2), conv(3), pool(2), flatten], [28, 28])).toEqual([26, 26]);
  expect(readExtent([conv(3), pool(2), flatten], [28, 28])).toEqual([28, 28]);
});

test('strides, dilation and uneven shapes count per axis', () => {
  expect(readExtent([conv(5, { strides: [2, 2] }), flatten], [28, 29])).toEqual([27, 29]);
  expect(readExtent([conv(2, { dilation_rate: [2, 2] }), pool(3, { strides: [3, 3] }), flatten], [28, 28])).toEqual([26, 26]);
});

test('layers after Flatten do not count; pass-through layers before it do not either; an unknown one stops the crop', () => {
  const dense: LayerSpec = { className: 'Dense', name: 'dense', config: {} };
  const dropout: LayerSpec = { className: 'Dropout', name: 'dropout', config: {} };
  expect(readExtent([conv(3), dropout, pool(2), conv(3), pool(2), flatten, dense], [28, 28])).toEqual([26, 26]);
  expect(readExtent([conv(3), { className: 'BatchNormalization', name: 'bn', config: {} }, pool(2), flatten], [28, 28])).toBeNull();
});
