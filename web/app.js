// The page: a canvas drawn on as the desktop app's (runtime/app/canvas.py: round-capped strokes, PAPER/INK),
// read by the JavaScript port of the Python pipeline (pipeline.js) and the shipped model on onnxruntime-web's
// WebAssembly backend. Everything it needs comes from this folder: no network at run time.
//
// window.digitkit is for tests and benchmarks: readStrokes (a stroke list -> the page's answer), mnistOf (a grey
// picture -> the 28×28), bench (the model alone, N runs), and the state of the page (last, timings).

import * as ort from "./ort.wasm.min.mjs";
import { configure, toMnist } from "./pipeline.js";

const LIVE_EVERY = 120; // ms between predictions while the pen is down (the desktop app's LIVE_EVERY)
// OpenCV's anti-aliased thick line (LINE_AA) and its round dots come out this much wider than the canvas's line
// of the same width: at +1.5 px the 28×28s of 150 app drawings differ from Python's by 0.8 grey levels on
// average, at +0 by 3.9, at +2 by 4.1
const OPENCV_WIDER = 1.5;

// ?threads=N or ?threads=all; by default all cores up to 4 (a model this small gains nothing from more workers, and
// each one loads the runtime). Threads need cross-origin isolation (SharedArrayBuffer): `digitkit web` sends the
// headers for it, and without them the page runs on one.
const threadsAsked = new URLSearchParams(location.search).get("threads");
const cores = navigator.hardwareConcurrency || 1;
ort.env.wasm.wasmPaths = new URL("./", import.meta.url).href;
ort.env.wasm.numThreads = !crossOriginIsolated
  ? 1
  : threadsAsked === "all"
    ? cores
    : threadsAsked
      ? Math.max(1, parseInt(threadsAsked, 10) || 1)
      : Math.min(4, cores);

const $ = (id) => document.getElementById(id);
const paper = $("paper");
const view = paper.getContext("2d");
const work = document.createElement("canvas"); // what is read: the strokes alone, without the box around them
const workContext = work.getContext("2d", { willReadFrequently: true });

const page = {
  constants: null,
  models: new Map(), // json path -> {spec, session}
  model: null,
  strokes: [],
  current: null,
  last: null,
  busy: false,
  again: false,
  lastLive: 0,
  timings: {},
};

// -- drawing -------------------------------------------------------------------------------------------------

function grey(value) {
  return `rgb(${value}, ${value}, ${value})`;
}

/** Strokes (lists of [x, y] pixel points) drawn as the app's Canvas draws them, on a context of that size. */
function drawStrokes(context, strokes, width, height, pen) {
  const { paper: paperLevel, ink } = page.constants.canvas;
  context.fillStyle = grey(paperLevel);
  context.fillRect(0, 0, width, height);
  context.strokeStyle = context.fillStyle = grey(ink);
  context.lineWidth = pen + OPENCV_WIDER;
  context.lineCap = context.lineJoin = "round";
  for (const stroke of strokes) {
    // OpenCV's pixel (x, y) is the canvas's square from (x, y) to (x + 1, y + 1): its centre is half a pixel on
    context.beginPath();
    if (stroke.length === 1) {
      context.arc(stroke[0][0] + 0.5, stroke[0][1] + 0.5, Math.max(1, pen >> 1) + OPENCV_WIDER / 2, 0, 2 * Math.PI);
      context.fill();
      continue;
    }
    context.moveTo(stroke[0][0] + 0.5, stroke[0][1] + 0.5);
    for (const [x, y] of stroke.slice(1)) context.lineTo(x + 0.5, y + 0.5);
    context.stroke();
  }
}

/** The strokes as a grey picture (Uint8Array, row by row), as the app's Canvas.render gives it. */
function render(strokes, width, height, pen) {
  work.width = width;
  work.height = height;
  drawStrokes(workContext, strokes, width, height, pen);
  const rgba = workContext.getImageData(0, 0, width, height).data;
  const out = new Uint8Array(width * height);
  // OpenCV's luminance in fixed point (cv2.COLOR_RGB2GRAY); the strokes are grey, so it is their level
  for (let i = 0; i < out.length; i++)
    out[i] = (rgba[4 * i] * 4899 + rgba[4 * i + 1] * 9617 + rgba[4 * i + 2] * 1868 + 8192) >> 14;
  return out;
}

function strokesNow() {
  return page.current ? [...page.strokes, page.current] : page.strokes;
}

/** The visible canvas: as many pixels as the screen shows it with, the drawing scaled from the canvas's own. */
function fit() {
  const side = Math.round(paper.getBoundingClientRect().width * (window.devicePixelRatio || 1));
  if (side > 0 && paper.width !== side) paper.width = paper.height = side;
  redraw();
}

function redraw() {
  const { width, height, pen } = page.constants.canvas;
  const scale = paper.width / width;
  view.setTransform(scale, 0, 0, scale, 0, 0);
  const strokes = strokesNow();
  drawStrokes(view, strokes, width, height, pen);
  const box = page.last && page.last.box;
  if (box && strokes.length) {
    view.strokeStyle = page.last.sure ? "#28a03c" : "#ff8c00";
    view.lineWidth = 1.5 / scale;
    view.strokeRect(box[0] - 4, box[1] - 4, box[2] + 8, box[3] + 8);
  } else if (!strokes.length) {
    view.fillStyle = "#b9b9b9";
    view.font = "16px system-ui, sans-serif";
    view.textAlign = "center";
    view.fillText("draw a digit here", width / 2, height / 2);
  }
}

function point(event) {
  const rect = paper.getBoundingClientRect();
  const { width, height } = page.constants.canvas;
  const x = Math.floor(((event.clientX - rect.left) * width) / rect.width);
  const y = Math.floor(((event.clientY - rect.top) * height) / rect.height);
  return [Math.min(Math.max(x, 0), width - 1), Math.min(Math.max(y, 0), height - 1)];
}

function extend(p) {
  const last = page.current[page.current.length - 1];
  if (p[0] !== last[0] || p[1] !== last[1]) page.current.push(p);
}

paper.addEventListener("pointerdown", (event) => {
  if (!page.constants || event.button > 0) return;
  paper.setPointerCapture(event.pointerId);
  page.current = [point(event)];
  redraw();
});
paper.addEventListener("pointermove", (event) => {
  if (!page.current) return;
  for (const e of event.getCoalescedEvents ? event.getCoalescedEvents() : [event]) extend(point(e));
  redraw();
  if (performance.now() - page.lastLive >= LIVE_EVERY) predict();
});
const lift = (event) => {
  if (!page.current) return;
  extend(point(event));
  page.strokes.push(page.current);
  page.current = null;
  page.strokeEnd = performance.now();
  predict();
};
paper.addEventListener("pointerup", lift);
paper.addEventListener("pointercancel", lift);

function clear() {
  page.strokes = [];
  page.current = null;
  predict();
}
function undo() {
  page.strokes.pop();
  predict();
}
$("clear").addEventListener("click", clear);
$("undo").addEventListener("click", undo);
$("model").addEventListener("change", () =>
  useModel($("model").value)
    .then(() => predict())
    .catch(failed),
);
document.addEventListener("keydown", (event) => {
  if (event.target instanceof HTMLSelectElement || event.ctrlKey || event.metaKey || event.altKey) return;
  const key = event.key.toLowerCase();
  if (key === "c") clear();
  else if (key === "u" || key === "z") undo();
  else if (key === "m") {
    const select = $("model");
    select.selectedIndex = (select.selectedIndex + 1) % select.options.length;
    select.dispatchEvent(new Event("change"));
  }
});

// -- the model -----------------------------------------------------------------------------------------------

async function loadModel(jsonPath) {
  if (!page.models.has(jsonPath)) {
    const spec = await fetchJson(jsonPath);
    if (spec.height !== 28 || spec.width !== 28)
      throw new Error(`${spec.file}: a ${spec.height}×${spec.width} input (the page feeds 28×28)`);
    const url = new URL(spec.file, new URL(jsonPath, location.href)).href;
    const session = await ort.InferenceSession.create(url, {
      executionProviders: ["wasm"],
      graphOptimizationLevel: "all",
    });
    page.models.set(jsonPath, { spec, session, ...feed(spec) });
  }
  return page.models.get(jsonPath);
}

async function useModel(jsonPath) {
  page.model = await loadModel(jsonPath);
}

async function fetchJson(path) {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

/** Pixels p in [0, 1] -> (p · pixel_scale − mean) / std (1 − p first for black-on-white), as the Recognizer. */
function feed(spec) {
  let scale = Math.fround(spec.pixel_scale / spec.std);
  let offset = Math.fround(-spec.mean / spec.std);
  if (spec.polarity === "black-on-white") [scale, offset] = [-scale, Math.fround(offset + spec.pixel_scale / spec.std)];
  const digits = spec.labels.map(Number);
  const columns = [...Array(10).keys()].map((d) => digits.indexOf(d)); // the output column of each digit
  const shape = spec.layout === "NHWC" ? [1, 28, 28, 1] : [1, 1, 28, 28];
  return { scale, offset, columns, shape };
}

/** The calibrated probabilities of a 28×28 (Float32Array in [0, 1], white on black). */
async function classify(model, mnist) {
  const input = new Float32Array(784);
  for (let i = 0; i < 784; i++) input[i] = mnist[i] * model.scale + model.offset;
  const outputs = await model.session.run({ [model.spec.input]: new ort.Tensor("float32", input, model.shape) });
  const scores = outputs[model.spec.output].data;
  const ordered = model.columns.map((c) => scores[c]);
  if (model.spec.scores !== "logits") return ordered;
  // softmax of the logits over the temperature fitted on held-out writing (digitkit.temperature)
  const top = Math.max(...ordered);
  const exp = ordered.map((s) => Math.exp((s - top) / model.spec.temperature));
  const total = exp.reduce((a, b) => a + b, 0);
  return exp.map((e) => e / total);
}

/** Strokes -> what the page shows: {digit, confidence, sure, top, mnist, box, beside, flat, ms}. */
async function read(strokes, width, height, pen, model = page.model) {
  const started = performance.now();
  if (!strokes.length) return { state: "empty", ms: {} };
  const found = toMnist(render(strokes, width, height, pen), width, height);
  const seen = performance.now();
  if (!found.mnist) return { state: "no digit", flat: found.flat, ms: { pipeline: seen - started } };
  const probabilities = await classify(model, found.mnist);
  const done = performance.now();
  const top = probabilities
    .map((p, d) => [d, p])
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3);
  const [digit, confidence] = top[0];
  // several digits side by side have no one answer (Recognizer.predict_batch: "not sure")
  const sure = confidence >= model.spec.min_confidence && !found.beside;
  return {
    state: "answer",
    digit,
    confidence,
    sure,
    top,
    probabilities,
    mnist: found.mnist,
    box: found.box,
    beside: found.beside,
    flat: found.flat,
    model: model.spec.precision,
    ms: { pipeline: seen - started, model: done - seen, total: done - started },
  };
}

async function predict() {
  if (!page.model) return;
  page.lastLive = performance.now();
  if (page.busy) {
    page.again = true;
    return;
  }
  page.busy = true;
  try {
    const { width, height, pen } = page.constants.canvas;
    page.last = await read(strokesNow(), width, height, pen);
    show(page.last);
    if (page.strokeEnd !== undefined && !page.current) {
      page.last.sinceStrokeEnd = performance.now() - page.strokeEnd;
      page.strokeEnd = undefined;
    }
  } catch (error) {
    failed(error);
  } finally {
    page.busy = false;
  }
  if (page.again) {
    page.again = false;
    predict();
  }
}

// -- the panel -----------------------------------------------------------------------------------------------

function percent(p) {
  return p < 0.995 ? `${Math.round(100 * p)}%` : `${(100 * p).toFixed(1)}%`;
}

function show(result) {
  const answer = $("answer");
  answer.dataset.state = result.state;
  answer.dataset.sure = String(Boolean(result.sure));
  answer.dataset.digit = result.state === "answer" ? String(result.digit) : "";
  answer.dataset.confidence = result.state === "answer" ? result.confidence.toFixed(4) : "";
  const seen = $("seen").getContext("2d");
  seen.fillStyle = "#000";
  seen.fillRect(0, 0, 28, 28);
  $("top").replaceChildren();
  if (result.state === "empty") {
    $("digit").textContent = "-";
    $("note").textContent = "draw a digit with the mouse or a finger";
  } else if (result.state === "no digit") {
    $("digit").textContent = "?";
    $("note").textContent = result.flat ? "no digit found" : "not a clean drawing (photos: use digitkit in Python)";
  } else {
    $("digit").textContent = result.sure ? String(result.digit) : "?";
    const note = result.beside ? "more than one digit?" : result.sure ? "confidence" : "not sure, confidence";
    $("note").textContent = `${note} ${percent(result.confidence)}`;
    for (const [digit, p] of result.top) {
      const row = document.createElement("div");
      row.className = "bar";
      row.innerHTML = `<b>${digit}</b><div><i style="width:${(100 * p).toFixed(1)}%"></i></div><span>${percent(p)}</span>`;
      $("top").append(row);
    }
    const image = seen.createImageData(28, 28);
    result.mnist.forEach((v, i) => {
      const level = Math.round(Math.min(Math.max(v, 0), 1) * 255);
      image.data.set([level, level, level, 255], 4 * i);
    });
    seen.putImageData(image, 0, 0);
  }
  const ms = result.ms && result.ms.total ? ` · ${result.ms.total.toFixed(1)} ms` : "";
  $("status").textContent =
    `${page.model.spec.precision} · WebAssembly, ${ort.env.wasm.numThreads} thread${ort.env.wasm.numThreads > 1 ? "s" : ""}${ms}`;
  redraw();
}

function failed(error) {
  $("answer").dataset.state = "error";
  $("digit").textContent = "!";
  $("note").textContent = String(error.message || error);
  console.error(error);
}

// -- for tests and benchmarks --------------------------------------------------------------------------------

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

window.digitkit = {
  page,
  get last() {
    return page.last;
  },
  /** Strokes of one drawing -> the page's answer (plain arrays), on a canvas of this size with this pen. */
  async readStrokes(strokes, { width = 280, height = 280, pen, model } = {}) {
    const chosen = model ? await loadModel(model) : page.model;
    const result = await read(strokes, width, height, pen || page.constants.canvas.pen, chosen);
    return { ...result, mnist: result.mnist && Array.from(result.mnist), probabilities: result.probabilities };
  },
  /** A grey picture (base64 of width × height bytes) -> the port's 28×28 (plain array), or null. */
  mnistOf(base64, width, height) {
    const grey = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const found = toMnist(grey, width, height);
    return found.mnist && Array.from(found.mnist);
  },
  /** The model alone on a fixed 28×28, ``runs`` times after ``warmup``: the median and spread in ms. */
  async bench(runs = 200, { model, warmup = 20 } = {}) {
    const chosen = model ? await loadModel(model) : page.model;
    const { width, height, pen } = page.constants.canvas;
    const seven = toMnist(
      render(
        [
          [
            [60, 60],
            [220, 60],
            [130, 160],
            [100, 230],
          ],
        ],
        width,
        height,
        pen,
      ),
      width,
      height,
    );
    const input = new Float32Array(784);
    seven.mnist.forEach((v, i) => (input[i] = v * chosen.scale + chosen.offset));
    const tensor = new ort.Tensor("float32", input, chosen.shape);
    const times = [];
    for (let i = 0; i < warmup + runs; i++) {
      const start = performance.now();
      await chosen.session.run({ [chosen.spec.input]: tensor });
      if (i >= warmup) times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    return {
      median: median(times),
      p10: times[Math.floor(0.1 * runs)],
      p90: times[Math.floor(0.9 * runs)],
      runs,
      threads: ort.env.wasm.numThreads,
    };
  },
  /** The picture -> 28×28 step alone on strokes, ``runs`` times: its median in ms. */
  pipelineMs(strokes, runs = 50) {
    const { width, height, pen } = page.constants.canvas;
    const times = [];
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      toMnist(render(strokes, width, height, pen), width, height);
      times.push(performance.now() - start);
    }
    return median(times);
  },
};

// -- start -----------------------------------------------------------------------------------------------------

async function start() {
  page.constants = await fetchJson("pipeline.json");
  configure(page.constants);
  const { width, height } = page.constants.canvas;
  new ResizeObserver(fit).observe(paper);
  await useModel($("model").value);
  // a first reading of a drawn digit compiles the model's kernels and warms up the JavaScript: done now, so that
  // the first stroke is answered at full speed
  for (let i = 0; i < 3; i++)
    await read(
      [
        [
          [80, 60],
          [200, 60],
          [120, 230],
        ],
      ],
      width,
      height,
      page.constants.canvas.pen,
    );
  page.timings.ready = performance.now(); // ms since the page was opened: runtime, model and a first answer
  show({ state: "empty" });
  $("answer").dataset.ready = "true";
}

window.digitkit.ready = start().catch(failed);
