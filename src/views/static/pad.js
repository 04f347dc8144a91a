// The drawing pad of the page (served as /assets/pad.js: the CSP allows no inline script).
// It records pen strokes with pointer events, so mouse, finger and pen behave alike, draws them as smooth
// curves, and hands them to htmx as the JSON body of Predict: the server gets the strokes, not a bitmap.
// It also defines the htmx extension "stratus-json" that makes every htmx request of the page a JSON
// POST (the server answers 415 to anything else), and shows failed requests' messages in #status.
'use strict';
(function () {
  const canvas = document.getElementById('pad');
  const status = document.getElementById('status');
  if (!(canvas instanceof HTMLCanvasElement)) return;
  const context = canvas.getContext('2d');
  if (!context) return;

  /** Strokes in CSS pixels of the canvas as it is laid out now; rescaled when the layout changes. */
  let strokes = [];
  /** The stroke being drawn and the pointer drawing it (other fingers are ignored meanwhile). */
  let current = null;
  let activePointer = null;
  /** Layout size in CSS pixels; the bitmap is this times devicePixelRatio, for sharp lines. */
  let size = { width: 0, height: 0 };

  const lineWidth = () => Math.max(4, Math.round(size.height / 16));

  function say(message) {
    if (status) status.textContent = message;
  }

  function fit() {
    const box = canvas.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) return;
    const ratio = window.devicePixelRatio || 1;
    if (size.width > 0 && (box.width !== size.width || box.height !== size.height)) {
      // Keep the drawing where it was relative to the canvas.
      const sx = box.width / size.width;
      const sy = box.height / size.height;
      strokes = strokes.map((stroke) => stroke.map((p) => ({ x: p.x * sx, y: p.y * sy })));
    }
    size = { width: box.width, height: box.height };
    canvas.width = Math.round(box.width * ratio);
    canvas.height = Math.round(box.height * ratio);
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    redraw();
  }

  function pen() {
    context.lineWidth = lineWidth();
    context.lineCap = 'round';
    context.lineJoin = 'round';
    context.strokeStyle = '#111';
    context.fillStyle = '#111';
  }

  function dot(p) {
    context.beginPath();
    context.arc(p.x, p.y, lineWidth() / 2, 0, Math.PI * 2);
    context.fill();
  }

  // Quadratic curves through the midpoints of successive points: smooth at any sampling rate.
  function drawStroke(stroke) {
    if (stroke.length === 1) return dot(stroke[0]);
    context.beginPath();
    context.moveTo(stroke[0].x, stroke[0].y);
    for (let i = 1; i < stroke.length - 1; i++) {
      const mid = { x: (stroke[i].x + stroke[i + 1].x) / 2, y: (stroke[i].y + stroke[i + 1].y) / 2 };
      context.quadraticCurveTo(stroke[i].x, stroke[i].y, mid.x, mid.y);
    }
    const last = stroke[stroke.length - 1];
    context.lineTo(last.x, last.y);
    context.stroke();
  }

  /** Draws only the newest piece of the stroke in progress, from the previous midpoint on. */
  function extend(stroke) {
    const n = stroke.length;
    if (n < 3) return redraw();
    const a = stroke[n - 3];
    const b = stroke[n - 2];
    const c = stroke[n - 1];
    context.beginPath();
    context.moveTo((a.x + b.x) / 2, (a.y + b.y) / 2);
    context.quadraticCurveTo(b.x, b.y, (b.x + c.x) / 2, (b.y + c.y) / 2);
    context.stroke();
  }

  function redraw() {
    context.clearRect(0, 0, size.width, size.height);
    pen();
    for (const stroke of strokes) drawStroke(stroke);
  }

  function pointFrom(event) {
    const box = canvas.getBoundingClientRect();
    return { x: event.clientX - box.left, y: event.clientY - box.top };
  }

  canvas.addEventListener('pointerdown', (event) => {
    if (activePointer !== null || (event.pointerType === 'mouse' && event.button !== 0)) return;
    event.preventDefault();
    activePointer = event.pointerId;
    canvas.setPointerCapture(event.pointerId);
    current = [pointFrom(event)];
    strokes.push(current);
    pen();
    dot(current[0]);
  });

  canvas.addEventListener('pointermove', (event) => {
    if (event.pointerId !== activePointer || !current) return;
    event.preventDefault();
    // Coalesced events carry every sample the device made since the last frame: smoother fast strokes.
    const samples = typeof event.getCoalescedEvents === 'function' ? event.getCoalescedEvents() : [];
    for (const sample of samples.length > 0 ? samples : [event]) {
      const p = pointFrom(sample);
      const last = current[current.length - 1];
      if (Math.abs(p.x - last.x) < 0.5 && Math.abs(p.y - last.y) < 0.5) continue;
      current.push(p);
      extend(current);
    }
  });

  function endStroke(event) {
    if (event.pointerId !== activePointer) return;
    activePointer = null;
    current = null;
    redraw();
  }
  canvas.addEventListener('pointerup', endStroke);
  canvas.addEventListener('pointercancel', endStroke);

  const clear = document.getElementById('clear-canvas');
  if (clear) {
    clear.addEventListener('click', () => {
      strokes = [];
      current = null;
      activePointer = null;
      redraw();
      say('');
    });
  }

  /** The body Predict sends: coordinates rounded to 0.1 px keep it small without changing the digit. */
  function drawing() {
    const round = (v) => Math.round(v * 10) / 10;
    return {
      width: round(size.width),
      height: round(size.height),
      lineWidth: lineWidth(),
      strokes: strokes.map((stroke) => stroke.map((p) => ({ x: round(p.x), y: round(p.y) }))),
    };
  }

  if (typeof ResizeObserver === 'function') new ResizeObserver(fit).observe(canvas);
  window.addEventListener('resize', fit);
  fit();

  const htmx = window.htmx;
  if (!htmx) return;
  htmx.defineExtension('stratus-json', {
    onEvent(name, event) {
      if (name === 'htmx:configRequest') event.detail.headers['Content-Type'] = 'application/json';
      return true;
    },
    encodeParameters(xhr, parameters, element) {
      const body = {};
      parameters.forEach((value, key) => {
        body[key] = value;
      });
      if (element.hasAttribute('data-send-drawing')) body.drawing = drawing();
      return JSON.stringify(body);
    },
  });

  document.body.addEventListener('htmx:beforeRequest', (event) => {
    const element = event.detail.elt;
    if (element && element.hasAttribute('data-send-drawing') && strokes.length === 0) {
      event.preventDefault();
      say('Draw a digit first.');
    }
  });
  document.body.addEventListener('htmx:beforeSend', () => say(''));
  document.body.addEventListener('htmx:responseError', (event) => {
    const xhr = event.detail.xhr;
    let message = `The request failed (HTTP ${xhr.status}).`;
    try {
      const parsed = JSON.parse(xhr.responseText);
      if (parsed && parsed.error && typeof parsed.error.message === 'string') message = parsed.error.message;
    } catch {
      // not JSON: keep the generic message
    }
    say(message);
  });
  document.body.addEventListener('htmx:sendError', () => say('The server could not be reached.'));
})();
