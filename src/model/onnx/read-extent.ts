// How much of the image a network of valid-padded windows reads. A window slides in whole steps and a
// last step that would overhang the map is not taken, so the last rows and columns of a map can lie
// outside every window of the next layer: lean's second pooling reads 10 of the 11 rows its convolution
// makes, which needs 12 of the first pooling's 13, hence 24 of the first convolution's 26, and 26 of the
// image's 28. The export crops the image to what is read (export-onnx.ts): the same results for ~15 %
// less convolution work.
import type { LayerSpec } from './layers-model-files.ts';
import { validOutputSize, windowOf, type Window } from './layer-converters.ts';

/** Layers that pass a map through as it is. */
const PASS_THROUGH: ReadonlySet<string> = new Set(['InputLayer', 'Dropout']);

/**
 * The [height, width] of the image's top-left corner that the layers up to Flatten read, or null when a
 * layer before Flatten is one this does not know (nothing is cropped then).
 */
export function readExtent(layers: readonly LayerSpec[], [height, width]: readonly number[]): [number, number] | null {
  const windows: { layer: LayerSpec; window: Window }[] = [];
  for (const layer of layers) {
    if (layer.className === 'Flatten') break;
    if (PASS_THROUGH.has(layer.className)) continue;
    const window = windowOf(layer);
    if (window === null) return null;
    windows.push({ layer, window });
  }
  // Forward to the size of the last map, which Flatten reads whole; then back, window by window, to the
  // rows and columns each map must hold for the next layer's windows.
  let extent = [height as number, width as number] as [number, number];
  for (const { layer, window } of windows) extent = [0, 1].map((axis) => validOutputSize(extent[axis]!, window.kernel[axis]!, window.strides[axis]!, window.dilation[axis]!, layer)) as [number, number];
  for (const { window } of windows.reverse()) extent = [0, 1].map((axis) => (extent[axis]! - 1) * window.strides[axis]! + (window.kernel[axis]! - 1) * window.dilation[axis]! + 1) as [number, number];
  return extent;
}
