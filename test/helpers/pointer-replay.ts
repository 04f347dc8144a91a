// Replays strokes onto an element as real input (Chrome DevTools Protocol Input.*), so the page sees
// trusted pointer events of the kind asked for: mouse, pen or touch. Synthetic events from script would
// skip what the browser does for real input (pointer capture, touch-action, coalescing).
import type { CDPSession, Locator, Page } from 'playwright-core';
import type { Stroke } from '../../src/preprocess/drawing.ts';
import { densify } from './stroke-layout.ts';

export type PointerKind = 'mouse' | 'pen' | 'touch';

export interface ReplayOptions {
  readonly pointer?: PointerKind;
  /** Largest gap between two reported positions, in CSS pixels. */
  readonly maxStep?: number;
}

const sessions = new WeakMap<Page, Promise<CDPSession>>();

function cdp(page: Page): Promise<CDPSession> {
  let session = sessions.get(page);
  if (session === undefined) {
    session = page.context().newCDPSession(page);
    sessions.set(page, session);
  }
  return session;
}

/** `strokes` are in CSS pixels relative to the element's top-left corner. */
export async function replayStrokes(page: Page, target: Locator, strokes: readonly Stroke[], options: ReplayOptions = {}): Promise<void> {
  const box = await target.boundingBox();
  if (box === null) throw new Error('the drawing target is not visible');
  const session = await cdp(page);
  const pointer = options.pointer ?? 'mouse';
  for (const stroke of strokes) {
    const points = densify(stroke, options.maxStep ?? 6).map((p) => ({ x: box.x + p.x, y: box.y + p.y }));
    const first = points[0];
    if (first === undefined) continue;
    // Sent without awaiting each: one session delivers in order, and pipelining saves a round trip a point.
    const sent: Promise<unknown>[] = [];
    if (pointer === 'touch') {
      sent.push(session.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ ...first, id: 1 }] }));
      for (const p of points.slice(1)) sent.push(session.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [{ ...p, id: 1 }] }));
      sent.push(session.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] }));
    } else {
      const last = points[points.length - 1] ?? first;
      const common = { pointerType: pointer, button: 'left' as const, clickCount: 1 };
      sent.push(session.send('Input.dispatchMouseEvent', { type: 'mouseMoved', ...first, pointerType: pointer, buttons: 0 }));
      sent.push(session.send('Input.dispatchMouseEvent', { type: 'mousePressed', ...first, ...common, buttons: 1 }));
      for (const p of points.slice(1)) {
        sent.push(session.send('Input.dispatchMouseEvent', { type: 'mouseMoved', ...p, pointerType: pointer, button: 'left', buttons: 1 }));
      }
      sent.push(session.send('Input.dispatchMouseEvent', { type: 'mouseReleased', ...last, ...common, buttons: 0 }));
    }
    await Promise.all(sent);
  }
}
