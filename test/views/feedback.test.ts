import { expect, test } from 'bun:test';
import { digitFeedback } from '../../src/views/feedback.ts';
import { select } from '../helpers/html.ts';

const digit = { requestId: 'r-1', position: 0, predicted: 4 };
const note = (html: string) => select(html, '.fb-recorded')[0]?.text;

test('before any feedback there is no note; after it, the note says an admin reviews it first', () => {
  expect(note(digitFeedback(digit))).toBeUndefined();
  expect(note(digitFeedback({ ...digit, recorded: 4 }))).toBe('thanks: marked right, for review');
  expect(note(digitFeedback({ ...digit, recorded: 9 }))).toBe('thanks: sent as a 9, for review');
});

test('the label given is the chosen button, and only it', () => {
  const chosen = select(digitFeedback({ ...digit, recorded: 9 }), '.fb-label.chosen');
  expect(chosen.map((button) => button.text)).toEqual(['9']);
});
