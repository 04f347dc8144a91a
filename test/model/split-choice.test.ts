// chooseSplit: the reading of a drawn number kept from the gateway's split and its alternatives.
import { expect, test } from 'bun:test';
import { chooseSplit } from '../../src/model/split-choice.ts';

/** Ten probabilities per image, `top` on `digit` and the rest spread evenly. */
function answers(...images: [digit: number, top: number][]): Float32Array {
  const out = new Float32Array(images.length * 10);
  images.forEach(([digit, top], i) => {
    out.fill((1 - top) / 9, i * 10, i * 10 + 10);
    out[i * 10 + digit] = top;
  });
  return out;
}

test('without alternatives the gateway\'s digits are the reading', () => {
  expect(chooseSplit(answers([1, 0.4], [2, 0.3]), 2, [])).toEqual({ images: [0, 1], taken: [] });
});

test('an alternative is taken where the model is surer of it than of the digits it replaces', () => {
  // Image 1 (one wide piece, unsure) against images 2 and 3 (its two halves, both sure).
  const probabilities = answers([7, 0.99], [0, 0.45], [1, 0.98], [2, 0.97]);
  expect(chooseSplit(probabilities, 2, [{ from: 1, to: 2, images: [2, 3] }])).toEqual({ images: [0, 2, 3], taken: [0] });
});

test('a split that reads less surely than the piece loses: a sure 0 is not read as two 1s', () => {
  const probabilities = answers([0, 0.995], [1, 0.9], [1, 0.95]);
  expect(chooseSplit(probabilities, 1, [{ from: 0, to: 1, images: [1, 2] }])).toEqual({ images: [0], taken: [] });
});

test('alternatives over separate runs are judged each on its own; of overlapping ones the larger gain wins', () => {
  // Gateway digits 0..3; an alternative joins 0+1 (image 4), another joins 1+2 (image 5), a third splits 3 (images 6, 7).
  const probabilities = answers([4, 0.5], [1, 0.5], [1, 0.9], [3, 0.2], [4, 0.99], [7, 0.6], [5, 0.9], [8, 0.9]);
  const alternatives = [
    { from: 0, to: 2, images: [4] },
    { from: 1, to: 3, images: [5] },
    { from: 3, to: 4, images: [6, 7] },
  ];
  // Joining 0+1 gains log(0.99 / 0.25); joining 1+2 gains log(0.6 / 0.45), less, and overlaps it.
  expect(chooseSplit(probabilities, 4, alternatives)).toEqual({ images: [4, 2, 6, 7], taken: [0, 2] });
});

test('an image the model gives no chance at all still compares', () => {
  const probabilities = new Float32Array(30);
  probabilities[13] = 1;
  probabilities[24] = 1;
  expect(chooseSplit(probabilities, 1, [{ from: 0, to: 1, images: [1, 2] }])).toEqual({ images: [1, 2], taken: [0] });
});
