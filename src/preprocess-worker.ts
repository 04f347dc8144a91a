// A thread that turns costly drawings into digit images, off the gateway's event loop: a drawing at the
// API's limits takes ~45 ms to rasterise, time the event loop owes to probes and every other client.
// src/http/drawing-pool.ts decides which drawings come here and in what order.
// It sits beside main.ts because the compiled binary resolves worker entry points from the root.
import { drawingToDigitImages } from './preprocess/digit-images.ts';
import { unpackDrawing, type PackedDrawing } from './preprocess/packed-drawing.ts';
import { serveCalls } from './worker-calls.ts';

async function handle(drawing: PackedDrawing): Promise<unknown> {
  return drawingToDigitImages(unpackDrawing(drawing));
}

// The images go back by transfer: nothing on this side keeps them.
serveCalls(handle, (value) => [(value as { pixels: Float32Array }).pixels.buffer as ArrayBuffer]);
