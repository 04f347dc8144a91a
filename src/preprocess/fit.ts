// Step 3 of drawingToPixels: scale the cropped ink so its longer side is `box` pixels (20 for MNIST),
// one scale for both axes so a thin "1" stays thin.
import { blankImage, type GreyImage } from './image.ts';

/**
 * Area-averaging resample (a box filter): each output pixel is the mean of the source area it covers,
 * partial source pixels weighted by their overlap. Unlike nearest-neighbour it keeps thin lines and
 * their anti-aliasing, and the total ink scales exactly with the area.
 * The shorter side becomes ceil(side × scale) pixels; its last column or row may be partly covered,
 * which is what keeps the aspect ratio exact rather than rounded.
 */
export function fitToBox(image: GreyImage, box = 20): GreyImage {
  const longer = Math.max(image.width, image.height);
  if (longer === 0) return blankImage(0, 0);
  const scale = box / longer;
  // The epsilon keeps 20.000000001 from becoming 21 columns through floating-point noise.
  const width = Math.max(1, Math.ceil(image.width * scale - 1e-9));
  const height = Math.max(1, Math.ceil(image.height * scale - 1e-9));
  const columns = boxWeights(image.width, width, scale);
  const rows = boxWeights(image.height, height, scale);
  // Separable: resample rows first (source height × output width), then columns.
  const horizontal = new Float32Array(image.height * width);
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (const [source, weight] of columns[x] as [number, number][]) sum += (image.data[y * image.width + source] as number) * weight;
      horizontal[y * width + x] = sum;
    }
  }
  const out = blankImage(width, height);
  for (let y = 0; y < height; y++) {
    for (const [source, weight] of rows[y] as [number, number][]) {
      for (let x = 0; x < width; x++) out.data[y * width + x] = (out.data[y * width + x] as number) + (horizontal[source * width + x] as number) * weight;
    }
  }
  for (let i = 0; i < out.data.length; i++) if ((out.data[i] as number) > 1) out.data[i] = 1;
  return out;
}

/**
 * For each output pixel o, the source pixels it covers and their weights: output pixel o spans source
 * coordinates [o/scale, (o+1)/scale); each source pixel's weight is its overlap times scale, so the
 * weights of a fully covered output pixel add up to 1.
 */
function boxWeights(sourceLength: number, outputLength: number, scale: number): [number, number][][] {
  const weights: [number, number][][] = [];
  for (let o = 0; o < outputLength; o++) {
    const start = o / scale;
    const end = Math.min(sourceLength, (o + 1) / scale);
    const taps: [number, number][] = [];
    for (let s = Math.floor(start); s < end; s++) {
      const overlap = Math.min(end, s + 1) - Math.max(start, s);
      if (overlap > 0) taps.push([s, overlap * scale]);
    }
    weights.push(taps);
  }
  return weights;
}
