// A clean drawing on a flat canvas -> the 28×28 the model sees: the path the Python pipeline
// (digitkit.runtime.vision.to_mnist) takes for such a picture, ported step by step, for one digit on a canvas of
// 112 to 1000 px a side. On OpenCV's own pictures of the app's drawings it gives Python's 28×28s bit for bit.
//
// That path: binarise.flat_paper (most pixels exactly the paper's level, every other mark no wider than a stroke)
// -> the ink is whatever stands above the paper, on a half-size copy when the drawing is large (digit_work_side)
// -> lines.py's faint printed lines (a long straight stroke's rim passes for one) -> 8-connected pieces ->
// underlines.py (a level line ruled through the digit) -> clean.writing_pieces (specks, the border) ->
// group.group_pieces -> clean.odd_sizes (one digit: tiny or faint pieces) -> the tallest candidate and what lies
// near it (pipeline._the_digit) -> normalise.digit_region -> normalise.fit_and_centre (20×20 fit with cv2.resize's
// arithmetic, centre of mass at 14).
// Not ported: the windowed threshold of photos and of pictures that are not flat (the result says flat: false),
// a form's printed boxes and barcodes (frames.py: rulings no one draws by hand), and the cut of touching digits
// (one digit is read without a classifier).
//
// Every number comes from the Python modules through pipeline.json (written by `digitkit web --build`).

let C = null;

/** The Python pipeline's constants (pipeline.json); call once before toMnist. */
export function configure(constants) {
  C = constants;
}

// -- small helpers: Python's rounding, numpy's order statistics ----------------------------------------------

/** Python's round(): halves to the even neighbour. */
export function pyRound(x) {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

function strided(values, most) {
  const step = Math.max(1, Math.floor(values.length / most));
  if (step === 1) return Float64Array.from(values);
  const out = new Float64Array(Math.ceil(values.length / step));
  for (let i = 0, k = 0; i < values.length; i += step, k++) out[k] = values[i];
  return out;
}

/** order.quantiles: nearest-rank order statistics of (a sample of at most ~4,096 of) the values. */
function quantile(values, share) {
  const sample = strided(values, 4096).sort();
  return sample[Math.min(sample.length - 1, Math.floor(share * (sample.length - 1) + 0.5))];
}

/** order.percentile: np.percentile's linear interpolation, on a sample of at most ~``most`` values. */
function percentile(values, share, most = 4096) {
  const sample = strided(values, most).sort();
  const position = share * (sample.length - 1);
  const below = Math.floor(position);
  const above = Math.min(below + 1, sample.length - 1);
  const low = sample[below];
  const high = sample[above];
  const t = position - below;
  return t >= 0.5 ? high - (high - low) * (1 - t) : low + (high - low) * t;
}

/** group.weighted_median: the value at which the weights, in the values' order, reach half their total. */
function weightedMedian(values, weights) {
  if (!values.length) return 0;
  const order = values.map((_, i) => i).sort((a, b) => values[a] - values[b] || a - b);
  const cumulative = [];
  let total = 0;
  for (const k of order) cumulative.push((total += weights[k]));
  const half = 0.5 * total;
  let i = 0;
  while (cumulative[i] < half) i++;
  return values[order[i]];
}

// -- pictures: {width, height, data: Uint8Array} ---------------------------------------------------------------

function picture(width, height, data) {
  return { width, height, data: data || new Uint8Array(width * height) };
}

/** cv2.boundingRect of the nonzero pixels: [x, y, w, h], w = 0 when there is none. */
function boundingRect(p) {
  let x0 = p.width;
  let y0 = p.height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < p.height; y++) {
    const row = y * p.width;
    for (let x = 0; x < p.width; x++) {
      if (p.data[row + x]) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        y1 = y;
      }
    }
  }
  return x1 < 0 ? [0, 0, 0, 0] : [x0, y0, x1 - x0 + 1, y1 - y0 + 1];
}

function crop(p, x, y, w, h) {
  const out = picture(w, h);
  for (let r = 0; r < h; r++) out.data.set(p.data.subarray((y + r) * p.width + x, (y + r) * p.width + x + w), r * w);
  return out;
}

const SQUARE = [-1, 0, 1].flatMap((dy) => [-1, 0, 1].map((dx) => [dx, dy]));

/** cv2.getStructuringElement(MORPH_ELLIPSE, (side, side)) as a list of [dx, dy] offsets from its anchor. */
function ellipse(side) {
  const r = Math.floor(side / 2);
  const offsets = [];
  for (let i = 0; i < side; i++) {
    const dy = i - r;
    if (Math.abs(dy) > r) continue;
    const dx = r ? pyRound(r * Math.sqrt((r * r - dy * dy) / (r * r))) : 0;
    for (let j = Math.max(r - dx, 0); j < Math.min(r + dx + 1, side); j++) offsets.push([j - r, dy]);
  }
  return offsets;
}

/** cv2.dilate with a structuring element (offsets from the anchor); outside the picture counts for nothing. */
function dilate(p, offsets) {
  const out = picture(p.width, p.height);
  for (let y = 0; y < p.height; y++) {
    for (let x = 0; x < p.width; x++) {
      let best = 0;
      for (const [dx, dy] of offsets) {
        const sx = x + dx;
        const sy = y + dy;
        if (sx >= 0 && sy >= 0 && sx < p.width && sy < p.height) best = Math.max(best, p.data[sy * p.width + sx]);
      }
      out.data[y * p.width + x] = best;
    }
  }
  return out;
}

/** Whether a side×side square fits inside the nonzero pixels anywhere (cv2.erode: outside counts as ink). */
function squareFits(p, side) {
  const r = Math.floor(side / 2);
  const w = p.width;
  const sums = new Int32Array((w + 1) * (p.height + 1)); // summed-area table of the ink
  for (let y = 0; y < p.height; y++) {
    for (let x = 0; x < w; x++) {
      sums[(y + 1) * (w + 1) + x + 1] =
        (p.data[y * w + x] ? 1 : 0) + sums[y * (w + 1) + x + 1] + sums[(y + 1) * (w + 1) + x] - sums[y * (w + 1) + x];
    }
  }
  for (let y = 0; y < p.height; y++) {
    for (let x = 0; x < w; x++) {
      const x0 = Math.max(0, x - r);
      const y0 = Math.max(0, y - r);
      const x1 = Math.min(w, x + r + 1);
      const y1 = Math.min(p.height, y + r + 1);
      const inside =
        sums[y1 * (w + 1) + x1] - sums[y0 * (w + 1) + x1] - sums[y1 * (w + 1) + x0] + sums[y0 * (w + 1) + x0];
      if (inside === (x1 - x0) * (y1 - y0)) return true;
    }
  }
  return false;
}

// -- resizing as cv2.resize does it on 8-bit pictures ----------------------------------------------------------

/** One side's INTER_AREA table (OpenCV's computeResizeAreaTab): [source index, destination index, weight]. */
function areaTable(source, size) {
  const scale = source / size;
  const table = [];
  for (let d = 0; d < size; d++) {
    const f1 = d * scale;
    const f2 = f1 + scale;
    const cell = Math.min(scale, source - f1);
    let s2 = Math.min(Math.floor(f2), source - 1);
    const s1 = Math.min(Math.ceil(f1), s2);
    if (s1 - f1 > 1e-3) table.push([s1 - 1, d, Math.fround((s1 - f1) / cell)]);
    for (let s = s1; s < s2; s++) table.push([s, d, Math.fround(1 / cell)]);
    if (f2 - s2 > 1e-3) table.push([s2, d, Math.fround(Math.min(Math.min(f2 - s2, 1), cell) / cell)]);
  }
  return table;
}

/** cv2.resize(..., INTER_AREA) to a smaller picture. */
export function resizeArea(p, width, height) {
  const sx = p.width / width;
  const sy = p.height / height;
  const out = picture(width, height);
  if (Number.isInteger(sx) && Number.isInteger(sy)) {
    // OpenCV's fast path for whole factors: 2×2 rounds half up, other factors by cvRound of the mean
    const area = sx * sy;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let sum = 0;
        for (let dy = 0; dy < sy; dy++) {
          for (let dx = 0; dx < sx; dx++) sum += p.data[(y * sy + dy) * p.width + x * sx + dx];
        }
        out.data[y * width + x] = area === 4 ? (sum + 2) >> 2 : pyRound(Math.fround(sum * Math.fround(1 / area)));
      }
    }
    return out;
  }
  const xtab = areaTable(p.width, width);
  const ytab = areaTable(p.height, height);
  const buf = new Float32Array(width);
  const sum = new Float32Array(width);
  let previous = ytab[0][1];
  const flush = (row) => {
    for (let x = 0; x < width; x++) out.data[row * width + x] = Math.min(255, Math.max(0, pyRound(sum[x])));
  };
  for (const [sy1, dy, beta] of ytab) {
    buf.fill(0);
    for (const [sx1, dx, alpha] of xtab) buf[dx] = buf[dx] + Math.fround(p.data[sy1 * p.width + sx1] * alpha);
    if (dy !== previous) {
      flush(previous);
      for (let x = 0; x < width; x++) sum[x] = beta * buf[x];
      previous = dy;
    } else {
      for (let x = 0; x < width; x++) sum[x] = sum[x] + Math.fround(beta * buf[x]);
    }
  }
  flush(previous);
  return out;
}

/** One side's INTER_LINEAR table: [first source index, its weight ×2048, the second's] (OpenCV's fixed point).
 * ``clamp``: columns past the picture's ends take its end pixel (rows are clamped only when fetched). */
function linearTable(source, size, clamp) {
  const scale = 1 / (size / source);
  const table = [];
  for (let d = 0; d < size; d++) {
    let f = Math.fround((d + 0.5) * scale - 0.5);
    let s = Math.floor(f);
    f = Math.fround(f - s);
    if (clamp && s < 0) [f, s] = [0, 0];
    if (clamp && s >= source - 1) [f, s] = [0, source - 1];
    table.push([s, pyRound(Math.fround(1 - f) * 2048), pyRound(f * 2048)]);
  }
  return table;
}

/** OpenCV's vertical linear pass on 8-bit rows (its SIMD kernel, ``VResizeLinearVec_32s8u``, which the wheels
 * run on every column): each row scaled down by 16, weighed in 16-bit fixed point, rounded by 4. */
function verticalRow(r0, r1, b0, b1, width) {
  const out = new Uint8Array(width);
  const weigh = (s, b) => Math.floor((Math.min(32767, s >> 4) * b) / 65536);
  for (let x = 0; x < width; x++) out[x] = Math.min(255, Math.max(0, (weigh(r0[x], b0) + weigh(r1[x], b1) + 2) >> 2));
  return out;
}

/** cv2.resize(..., INTER_LINEAR) to a larger picture (fixed point, 11 bits each way). */
export function resizeLinear(p, width, height) {
  const xtab = linearTable(p.width, width, true);
  const ytab = linearTable(p.height, height, false);
  const rows = (y) => {
    const out = new Int32Array(width);
    for (let x = 0; x < width; x++) {
      const [s, a0, a1] = xtab[x];
      const next = Math.min(s + 1, p.width - 1);
      out[x] = p.data[y * p.width + s] * a0 + p.data[y * p.width + next] * a1;
    }
    return out;
  };
  const out = picture(width, height);
  for (let y = 0; y < height; y++) {
    const [s, b0, b1] = ytab[y];
    const r0 = rows(Math.min(Math.max(s, 0), p.height - 1));
    const r1 = rows(Math.min(Math.max(s + 1, 0), p.height - 1));
    out.data.set(verticalRow(r0, r1, b0, b1, width), y * width);
  }
  return out;
}

// -- binarise.py: flat paper -------------------------------------------------------------------------------------

/** binarise.noise_level: the picture's noise in grey levels (0 for a drawing: most neighbours are equal). */
function noiseLevel(grey) {
  const step = Math.max(1, Math.floor(Math.max(grey.width, grey.height) / 400));
  const counts = new Float64Array(256);
  let size = 0;
  let nonzero = 0;
  for (let y = 0; y < grey.height; y += step) {
    for (let x = 0; x + step < grey.width; x += step) {
      const d = Math.abs(grey.data[y * grey.width + x + step] - grey.data[y * grey.width + x]);
      counts[d]++;
      size++;
      nonzero += d > 0;
    }
  }
  if (size === 0 || nonzero < Math.floor(size / 2)) return 0;
  const rank = (n) => {
    let below = 0;
    for (let v = 0; v < 256; v++) if ((below += counts[v]) >= n) return v;
    return 255;
  };
  const middle = (rank(Math.floor((size - 1) / 2) + 1) + rank(Math.floor(size / 2) + 1)) / 2;
  return (middle * 1.4826) / Math.sqrt(2);
}

/** binarise._paper_level: the level FLAT_SHARE of the picture or more is exactly at, else null. */
function paperLevel(grey) {
  const sample = new Int32Array(256);
  for (let y = 0; y < grey.height; y += 4)
    for (let x = 0; x < grey.width; x += 4) sample[grey.data[y * grey.width + x]]++;
  const all = new Int32Array(256);
  for (const v of grey.data) all[v]++;
  let level = sample.indexOf(Math.max(...sample));
  if (all[level] > Math.max(C.flat_share, 0.5) * grey.data.length) return level;
  level = all.indexOf(Math.max(...all));
  return all[level] < C.flat_share * grey.data.length ? null : level;
}

/** binarise.flat_paper: {level, darkInk, extent} of a clean drawing's paper, else null. */
function flatPaper(grey) {
  if (Math.min(grey.width, grey.height) >= 2 * C.work_min_side) {
    const half = flatPaper(resizeArea(grey, grey.width >> 1, grey.height >> 1));
    return half && { ...half, extent: 2 * half.extent };
  }
  const level = paperLevel(grey);
  if (level === null) return null;
  const other = picture(grey.width, grey.height);
  let count = 0;
  let sum = 0;
  grey.data.forEach((v, i) => {
    if (Math.abs(v - level) > C.min_offset) {
      other.data[i] = 1;
      count++;
      sum += v;
    }
  });
  const [x, y, w, h] = boundingRect(other);
  if (w === 0) return { level, darkInk: level > 127, extent: 0 };
  const darkInk = sum / count < level;
  let side = C.stroke_max_share * Math.min(grey.width, grey.height);
  const clear = x > 0 && y > 0 && x + w < grey.width && y + h < grey.height;
  if (clear && darkInk) side = Math.max(side, Math.max(w, h) / C.bold_stroke);
  side = 2 * pyRound(side / 2) + 1;
  const bx = Math.max(0, x - 1);
  const by = Math.max(0, y - 1);
  const box = crop(other, bx, by, Math.min(grey.width, x + w + 1) - bx, Math.min(grey.height, y + h + 1) - by);
  if (squareFits(box, side)) return null;
  return { level, darkInk, extent: Math.max(w, h) };
}

/** binarise.binarise on flat paper: the bright-ink working picture and its mask, or null when not flat. */
function binariseFlat(grey, oneDigit) {
  const noise = noiseLevel(grey);
  const offset = Math.max(C.min_offset, pyRound(C.noise_factor * noise));
  const flat = noise >= C.clean_scan ? null : flatPaper(grey);
  if (!flat) return null;
  const step = oneDigit && flat.extent >= 2 * C.digit_work_side ? 2 : 1;
  let work = grey;
  if (step > 1) {
    const w = Math.floor(grey.width / step);
    const h = Math.floor(grey.height / step);
    work = resizeArea(crop(grey, 0, 0, w * step, h * step), w, h);
  }
  const paper = flat.darkInk ? 255 - flat.level : flat.level;
  const ink = picture(work.width, work.height);
  const mask = picture(work.width, work.height);
  work.data.forEach((v, i) => {
    ink.data[i] = flat.darkInk ? 255 - v : v;
    mask.data[i] = ink.data[i] - paper > offset ? 1 : 0;
  });
  return { ink, mask, paper, coarse: step > 1, scale: 1 / step };
}

// -- lines.py: faint printed lines ------------------------------------------------------------------------------
// A drawing has none, but the rim of a long straight stroke drawn with the app's pen passes for one: the pipeline
// takes those rim pixels out of the mask, and a large digit with many of them is read at full size instead.

function rimWidth(width, height) {
  return Math.max(2, pyRound(C.line_rim * Math.max(width, height)));
}

/** lines._runs on rows: 0/1, the pixels of a run of at least ``length`` along the row (OpenCV's box filters). */
function runsAlongRows(rows, width, length) {
  const anchor = Math.floor(length / 2);
  return rows.map((row) => {
    const fits = new Uint8Array(width);
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (let k = 0; k < length; k++) sum += row[Math.min(width - 1, Math.max(0, x + k - anchor))]; // replicated
      fits[x] = sum >= length ? 1 : 0;
    }
    const out = new Uint8Array(width);
    for (let x = 0; x < width; x++) {
      for (let k = 0; k < length; k++) {
        const sx = x + k - anchor;
        if (sx >= 0 && sx < width && fits[sx]) {
          out[x] = 1;
          break;
        }
      }
    }
    return out;
  });
}

/** lines._long_runs: the lines' pixels on a run of at least ``length`` (rows of a picture), or null for none. */
function longRuns(p, length, atBorder) {
  const need = atBorder ? Math.floor((length + 1) / 2) : length;
  const rows = [];
  for (let y = 0; y < p.height; y++) {
    let sum = 0;
    for (let x = 0; x < p.width; x++) sum += p.data[y * p.width + x];
    if (sum >= need) rows.push(y);
  }
  const out = picture(p.width, p.height);
  if (!rows.length) return null;
  const runs = runsAlongRows(
    rows.map((y) => p.data.subarray(y * p.width, (y + 1) * p.width)),
    p.width,
    length,
  );
  const kept = [];
  rows.forEach((y, k) => {
    out.data.set(runs[k], y * p.width);
    if (runs[k].some((v) => v)) kept.push(y);
  });
  return kept.length ? { lines: out, rows: kept } : null;
}

function transpose(p) {
  const out = picture(p.height, p.width);
  for (let y = 0; y < p.height; y++)
    for (let x = 0; x < p.width; x++) out.data[x * p.height + y] = p.data[y * p.width + x];
  return out;
}

/** cv2.morphologyEx(MORPH_OPEN) with a ``thick``-row column, on rows [start, end) of the picture (as a band). */
function openColumns(p, thick, start, end) {
  const band = crop(p, 0, start, p.width, end - start);
  const anchor = Math.floor(thick / 2);
  const column = Array.from({ length: thick }, (_, k) => [0, k - anchor]);
  const eroded = picture(band.width, band.height);
  for (let y = 0; y < band.height; y++) {
    for (let x = 0; x < band.width; x++) {
      let all = 1;
      for (const [, dy] of column) {
        const sy = y + dy;
        if (sy >= 0 && sy < band.height && !band.data[sy * band.width + x]) all = 0;
      }
      eroded.data[y * band.width + x] = all;
    }
  }
  return dilate(eroded, column);
}

/** lines._line_shapes: the box around the ink (2 blank pixels each side) and, in it, the pixels on (or one pixel
 * beside) a thin long level or upright run of the mask; null when there is none. */
function lineShapes(bin) {
  const { mask } = bin;
  const { width, height } = mask;
  const length = Math.max(C.line_min, pyRound(C.line_span * Math.max(width, height)));
  const [x, y, w, h] = boundingRect(mask);
  const x0 = Math.max(0, x - 2);
  const y0 = Math.max(0, y - 2);
  const x1 = Math.min(width, x + w + 2);
  const y1 = Math.min(height, y + h + 2);
  const box = crop(mask, x0, y0, x1 - x0, y1 - y0);
  const level = longRuns(
    dilate(box, [
      [0, -1],
      [0, 0],
      [0, 1],
    ]),
    length,
    x0 === 0 || x1 === width,
  );
  const upright = longRuns(
    transpose(
      dilate(box, [
        [-1, 0],
        [0, 0],
        [1, 0],
      ]),
    ),
    length,
    y0 === 0 || y1 === height,
  );
  if (!level && !upright) return { x0, y0, found: null, runs: null };
  // a line along the picture's border is the edge of a sheet, left whole for clean's hugging test
  const rim = rimWidth(width, height);
  const outside = (k, along) => k < Math.max(0, rim - along[0]) || k >= Math.max(0, along[1] - rim - along[0]);
  // printed lines are thin; a band as thick as the window's reach is not one (an opening across it keeps it)
  const window = Math.max(C.window_min, pyRound(C.window_share * Math.max(width, height))) | 1;
  const thick = 2 + Math.max(3, Math.floor(window / 6));
  const found = picture(box.width, box.height);
  // level runs as rows, upright ones as the rows of the transposed box; each opened across, in its band alone
  for (const [runs, along, flip] of [
    [level, [y0, height], false],
    [upright, [x0, width], true],
  ]) {
    if (!runs) continue;
    const { lines } = runs;
    for (let r = 0; r < lines.height; r++)
      if (outside(r, along)) lines.data.fill(0, r * lines.width, (r + 1) * lines.width);
    // every long level run, thin or not, in the picture: where underlines are looked for
    if (!flip && lines.data.some((v) => v)) {
      level.runs = picture(width, height);
      for (let r = 0; r < lines.height; r++)
        level.runs.data.set(lines.data.subarray(r * lines.width, (r + 1) * lines.width), (y0 + r) * width + x0);
    }
    const start = Math.max(0, runs.rows[0] - thick);
    const end = Math.min(lines.height, runs.rows[runs.rows.length - 1] + 1 + thick);
    const opened = openColumns(lines, thick, start, end);
    for (let r = start; r < end; r++) {
      for (let c = 0; c < lines.width; c++)
        if (opened.data[(r - start) * lines.width + c]) lines.data[r * lines.width + c] = 0;
    }
    const back = flip ? transpose(lines) : lines;
    back.data.forEach((v, i) => {
      if (v) found.data[i] = 1;
    });
  }
  return { x0, y0, found: found.data.some((v) => v) ? found : null, runs: (level && level.runs) || null };
}

/** lines.without_printed_lines on flat paper: the mask without the faint pixels of long straight runs; how many
 * pixels were taken out, and the long level runs (null for none). */
function withoutPrintedLines(bin) {
  const { x0, y0, found, runs } = lineShapes(bin);
  const taken = (printed) => ({ printed, runs });
  if (!found) return taken(0);
  const at = (i) => (y0 + Math.floor(i / found.width)) * bin.mask.width + x0 + (i % found.width);
  const rest = [];
  for (let i = 0; i < found.data.length; i++)
    if (bin.mask.data[at(i)] && !found.data[i]) rest.push(bin.ink.data[at(i)]);
  if (!rest.length) return taken(0); // nothing but lines: they are the writing (a 1 drawn with a ruler)
  const stroke = percentile(rest, 0.9, Infinity);
  const faint = bin.paper + C.faint_line * (stroke - bin.paper);
  let printed = 0;
  for (let i = 0; i < found.data.length; i++) {
    if (found.data[i] && bin.mask.data[at(i)] && bin.ink.data[at(i)] < faint) {
      bin.mask.data[at(i)] = 0;
      printed++;
    }
  }
  return taken(printed);
}

// -- components.py: 8-connected pieces ---------------------------------------------------------------------------

/** Pieces of the mask, numbered in the order a row-by-row scan meets them: {labels, count, boxes, area}. */
function findPieces(mask) {
  const { width, height } = mask;
  const labels = new Int32Array(width * height);
  const parent = [0];
  const find = (a) => {
    while (parent[a] !== a) a = parent[a] = parent[parent[a]];
    return a;
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (!mask.data[i]) continue;
      let best = 0;
      const neighbours = [x > 0 ? i - 1 : -1, y > 0 && x > 0 ? i - width - 1 : -1, y > 0 ? i - width : -1];
      neighbours.push(y > 0 && x + 1 < width ? i - width + 1 : -1);
      for (const n of neighbours) {
        if (n < 0 || !labels[n]) continue;
        const root = find(labels[n]);
        if (!best) best = root;
        else if (root !== best) {
          const [keep, drop] = root < best ? [root, best] : [best, root];
          parent[drop] = keep;
          best = keep;
        }
      }
      if (!best) {
        best = parent.length;
        parent.push(best);
      }
      labels[i] = best;
    }
  }
  const number = new Int32Array(parent.length);
  const boxes = [[0, 0, width, height]];
  const area = [0];
  const edges = [null];
  for (let i = 0; i < labels.length; i++) {
    if (!labels[i]) continue;
    const root = find(labels[i]);
    if (!number[root]) {
      number[root] = boxes.length;
      boxes.push(null);
      area.push(0);
      edges.push([width, height, -1, -1]);
    }
    const k = (labels[i] = number[root]);
    const x = i % width;
    const y = (i - x) / width;
    const e = edges[k];
    e[0] = Math.min(e[0], x);
    e[1] = Math.min(e[1], y);
    e[2] = Math.max(e[2], x);
    e[3] = Math.max(e[3], y);
    area[k]++;
  }
  for (let k = 1; k < boxes.length; k++) {
    const [x0, y0, x1, y1] = edges[k];
    boxes[k] = [x0, y0, x1 - x0 + 1, y1 - y0 + 1];
  }
  return { labels, width, height, count: boxes.length, boxes, area };
}

/** Per side (top, bottom, left, right) and piece: on how many positions along the side the piece lies within
 * ``depth`` pixels of it (components.Pieces.on_border for depth 1, clean._on_bands beyond). */
function onSides(pieces, depth) {
  const { labels, width, height, count } = pieces;
  const sides = [0, 1, 2, 3].map(() => new Int32Array(count));
  const along = [
    [width, (p, d) => d * width + p],
    [width, (p, d) => (height - 1 - d) * width + p],
    [height, (p, d) => p * width + d],
    [height, (p, d) => p * width + width - 1 - d],
  ];
  along.forEach(([length, at], side) => {
    for (let p = 0; p < length; p++) {
      const seen = new Set();
      for (let d = 0; d < depth; d++) seen.add(labels[at(p, d)]);
      for (const k of seen) sides[side][k]++;
    }
  });
  return sides;
}

// -- underlines.py: a level line drawn through the digit's feet -----------------------------------------------

/** underlines._line_ends: the flat parts of ``own`` beside a rule's run that touch it (a tilted line's ends). */
function lineEnds(own, segment) {
  const rest = picture(own.width, own.height);
  rest.data.forEach((_, i) => (rest.data[i] = own.data[i] && !segment.data[i] ? 1 : 0));
  const parts = findPieces(rest);
  const near = dilate(segment, SQUARE);
  const keep = new Array(parts.count).fill(false);
  parts.labels.forEach((k, i) => {
    if (k && near.data[i]) keep[k] = true;
  });
  parts.boxes.forEach(([, , w, h], k) => (keep[k] &&= k > 0 && w >= 3 * h));
  const out = picture(own.width, own.height);
  parts.labels.forEach((k, i) => (out.data[i] = keep[k] ? 1 : 0));
  return out;
}

/** underlines.without_underlines: the pieces again, without the level lines ruled across the writing (a line
 * ``rule_length`` times longer than the piece it lies in is tall, that piece ``rule_touch`` times its thickness). */
function withoutUnderlines(bin, pieces, runs) {
  if (!runs) return pieces;
  const [, , runsWidth] = boundingRect(runs);
  if (!pieces.boxes.slice(1).some((b) => C.rule_length * b[3] <= runsWidth)) return pieces;
  const segments = findPieces(runs);
  const shortest = C.rule_length * C.rule_touch;
  let rules = null;
  for (let k = 1; k < segments.count; k++) {
    const [, , width, depth] = segments.boxes[k];
    if (width < shortest * depth) continue; // too short for its thickness to be ruled across anything
    const segment = picture(runs.width, runs.height);
    const columns = new Set();
    const counts = new Map();
    segments.labels.forEach((label, i) => {
      if (label !== k) return;
      segment.data[i] = 1;
      const piece = pieces.labels[i];
      if (!piece) return;
      columns.add(i % runs.width); // its length is where it is ink
      counts.set(piece, (counts.get(piece) || 0) + 1);
    });
    if (columns.size < shortest * depth) continue;
    let piece = 0;
    for (const [label, count] of counts) {
      if (!piece || count > counts.get(piece) || (count === counts.get(piece) && label < piece)) piece = label;
    }
    const tall = pieces.boxes[piece][3];
    if (tall < C.rule_touch * depth || columns.size < C.rule_length * tall) continue;
    const own = picture(runs.width, runs.height);
    pieces.labels.forEach((label, i) => (own.data[i] = label === piece ? 1 : 0));
    const ends = lineEnds(own, segment);
    const line = segment.data.map((v, i) => v | ends.data[i]);
    // ... and what the line touches is still there without it (not a stroke of its own drawn tilted)
    let first = -1;
    let last = -1;
    for (let i = 0; i < own.data.length; i++) {
      if (own.data[i] && !line[i]) {
        const row = Math.floor(i / runs.width);
        if (first < 0) first = row;
        last = row;
      }
    }
    if (first >= 0 && last - first + 1 >= C.rule_touch * depth) {
      rules = rules || new Uint8Array(line.length);
      line.forEach((v, i) => (rules[i] |= v));
    }
  }
  if (!rules) return pieces;
  rules.forEach((v, i) => {
    if (v) bin.mask.data[i] = 0;
  });
  return findPieces(bin.mask);
}

// -- clean.py: which pieces are writing ------------------------------------------------------------------------

/** clean._hugging_the_border and clean._table_around: per piece, whether it is the border, not writing. */
function atTheBorder(pieces) {
  const { width, height, count, boxes, area } = pieces;
  const rim = rimWidth(width, height);
  const clear = boxes
    .slice(1)
    .every(([x, y, w, h]) => x > rim && y > rim && x + w < width - rim && y + h < height - rim);
  const out = new Array(count).fill(false);
  if (clear) return out;
  const onBorder = onSides(pieces, 1);
  const near = Math.max(1, Math.min(pyRound(C.edge_gap * Math.max(width, height)), Math.min(width, height)));
  const onBand = near === 1 ? onBorder : onSides(pieces, near);
  const nearTable = Math.max(2, pyRound(C.edge_gap * Math.max(width, height)));
  for (let k = 1; k < count; k++) {
    const [x, y, w, h] = boxes[k];
    const lengths = [w, w, h, h];
    const depths = [h, h, w, w];
    const span = [width, width, height, height];
    let hugging = false;
    let framing = 0;
    for (let s = 0; s < 4; s++) {
      hugging ||= onBand[s][k] > C.hug_border * Math.max(lengths[s], 1) && lengths[s] > 2 * depths[s];
      framing += onBorder[s][k] > C.table_side * span[s];
    }
    hugging ||= framing >= 2;
    hugging ||= (x + w <= rim || x >= width - rim) && h > 2 * w;
    hugging ||= (y + h <= rim || y >= height - rim) && w > 2 * h;
    // the table around a photographed sheet (never in a tight crop, which a canvas is not)
    const left = x <= nearTable;
    const top = y <= nearTable;
    const right = x + w >= width - nearTable;
    const bottom = y + h >= height - nearTable;
    const sides = left + top + right + bottom;
    const uprightStrip = top && bottom && (x + w <= C.strip * width || x >= (1 - C.strip) * width);
    const levelStrip = left && right && (y + h <= C.strip * height || y >= (1 - C.strip) * height);
    const onSide = Math.max(onBorder[2][k], onBorder[3][k]);
    const onEnd = Math.max(onBorder[0][k], onBorder[1][k]);
    const alongFrame =
      (h >= C.table_side * height && onSide >= C.wedge_on_frame * h) ||
      (w >= C.table_side * width && onEnd >= C.wedge_on_frame * w);
    const corner = (left || right) && (top || bottom) && alongFrame && area[k] >= C.wedge_fill * Math.max(1, w * h);
    out[k] = hugging || sides >= 3 || uprightStrip || levelStrip || corner;
  }
  return out;
}

/** clean.writing_pieces on flat paper: piece -> how far its ink stands above the paper (a Map, in piece order). */
function writingPieces(bin, pieces) {
  const speck = Math.max(C.speck_min, C.speck_share * Math.max(bin.mask.width, bin.mask.height));
  const border = atTheBorder(pieces);
  const keep = new Map();
  for (let k = 1; k < pieces.count; k++) {
    const [x, y, w, h] = pieces.boxes[k];
    if (Math.max(w, h) < speck || border[k]) continue;
    const levels = [];
    for (let r = y; r < y + h; r++) {
      for (let c = x; c < x + w; c++)
        if (pieces.labels[r * pieces.width + c] === k) levels.push(bin.ink.data[r * pieces.width + c]);
    }
    keep.set(k, quantile(levels, 0.9) - bin.paper); // flat paper: nothing around a piece stands out
  }
  return keep;
}

// -- group.py ----------------------------------------------------------------------------------------------------

function union(boxes) {
  const x0 = Math.min(...boxes.map((b) => b[0]));
  const y0 = Math.min(...boxes.map((b) => b[1]));
  const x1 = Math.max(...boxes.map((b) => b[0] + b[2]));
  const y1 = Math.max(...boxes.map((b) => b[1] + b[3]));
  return [x0, y0, x1 - x0, y1 - y0];
}

function linePast(a, b) {
  return [
    [a[2], a[3], b[2]],
    [b[2], b[3], a[2]],
  ].some(([wide, high, other]) => wide >= C.line_flat * high && wide >= C.line_past * other);
}

/** group.group_pieces: indices into ``boxes`` grouped into digits, largest piece first in each group. */
function groupPieces(boxes, areas) {
  const height = weightedMedian(
    boxes.map((b) => b[3]),
    areas,
  );
  const groups = [];
  const groupBoxes = [];
  const order = boxes.map((_, i) => i).sort((a, b) => areas[b] - areas[a] || a - b);
  for (const i of order) {
    const [x, y, w, h] = boxes[i];
    let best = null;
    let bestShare = C.shared_columns;
    groupBoxes.forEach(([gx, gy, gw, gh], g) => {
      const shared = (Math.min(x + w, gx + gw) - Math.max(x, gx)) / Math.max(1, Math.min(w, gw));
      const gap = Math.max(gy - (y + h), y - (gy + gh));
      const tall = Math.max(y + h, gy + gh) - Math.min(y, gy);
      if (shared >= bestShare && gap <= C.piece_gap * height && tall <= C.digit_height * height) {
        if (!linePast(boxes[i], groupBoxes[g])) [best, bestShare] = [g, shared];
      }
    });
    if (best === null) {
      groups.push([i]);
      groupBoxes.push(boxes[i]);
    } else {
      groups[best].push(i);
      groupBoxes[best] = union([groupBoxes[best], boxes[i]]);
    }
  }
  return groups;
}

// -- pipeline.py: the one digit ----------------------------------------------------------------------------------

/** pipeline._digits_beside: candidates beside the tallest one that look like more digits. */
function digitsBeside(boxes, ink) {
  const main = tallest(boxes);
  const [x, y, w, h] = boxes[main];
  let count = 0;
  boxes.forEach(([bx, by, bw, bh], k) => {
    const shared = Math.min(y + h, by + bh) - Math.max(y, by);
    const clear = bx >= x + w + C.beside_gap * h || bx + bw <= x - C.beside_gap * h;
    count +=
      bh >= C.beside_height * h && ink[k] >= C.beside_ink * ink[main] && shared >= 0.5 * Math.min(h, bh) && clear;
  });
  return count;
}

function tallest(boxes) {
  let main = 0;
  boxes.forEach((b, k) => {
    if (b[3] > boxes[main][3] || (b[3] === boxes[main][3] && b[2] > boxes[main][2])) main = k;
  });
  return main;
}

/** The pieces of one digit (pipeline._read with one_digit): {ids, box, beside} in working pixels, or null. */
function theDigit(bin, pieces) {
  const levels = writingPieces(bin, pieces);
  const keep = [...levels.keys()];
  const boxes = keep.map((k) => pieces.boxes[k]);
  let groups = groupPieces(
    boxes,
    keep.map((k) => pieces.area[k]),
  ).map((g) => g.map((i) => keep[i]));
  let groupBoxes = groups.map((g) => union(g.map((k) => pieces.boxes[k])));
  let ink = groups.map((g) => g.reduce((s, k) => s + pieces.area[k], 0));
  const groupLevels = groups.map((g) => Math.max(...g.map((k) => levels.get(k))));
  if (groups.length) {
    // clean.odd_sizes for one digit: only a piece too low to read or far fainter than the rest is no digit
    const typicalLevel = weightedMedian(groupLevels, ink);
    const odd = groupBoxes.map((b, k) => b[3] < C.min_height || groupLevels[k] < C.faint_writing * typicalLevel);
    groups = groups.filter((_, k) => !odd[k]);
    groupBoxes = groupBoxes.filter((_, k) => !odd[k]);
    ink = ink.filter((_, k) => !odd[k]);
  }
  if (!groups.length) return null;
  const beside = digitsBeside(groupBoxes, ink);
  const [x, y, w, h] = groupBoxes[tallest(groupBoxes)];
  const reach = C.near * Math.max(w, h);
  const ids = [];
  groups.forEach((g, k) => {
    const [gx, gy, gw, gh] = groupBoxes[k];
    if (gx < x + w + reach && gx + gw > x - reach && gy < y + h + reach && gy + gh > y - reach) ids.push(...g);
  });
  const box = union(ids.map((k) => pieces.boxes[k]));
  if (Math.max(box[2], box[3]) < C.one_digit_side * Math.max(bin.mask.width, bin.mask.height)) return null;
  return { ids, box, beside };
}

// -- normalise.py ------------------------------------------------------------------------------------------------

/** normalise.digit_region: the digit's ink levels in its box, 0 elsewhere (grow: 1 working pixel, flat paper). */
function digitRegion(bin, pieces, ids, box) {
  const [bx, by, w, h] = box;
  const wanted = new Set(ids);
  const own = picture(w, h);
  const others = picture(w, h);
  const ink = crop(bin.ink, bx, by, w, h);
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const label = pieces.labels[(by + r) * pieces.width + bx + c];
      own.data[r * w + c] = wanted.has(label) ? 1 : 0;
      others.data[r * w + c] = label && !wanted.has(label) ? 1 : 0;
    }
  }
  const reach = dilate(own, ellipse(3));
  const paperPixels = [];
  const strokePixels = [];
  for (let i = 0; i < w * h; i++) {
    if (others.data[i]) reach.data[i] = 0;
    if (own.data[i]) reach.data[i] = 1;
    if (!own.data[i] && !others.data[i]) paperPixels.push(ink.data[i]);
    if (own.data[i]) strokePixels.push(ink.data[i]);
  }
  let paper = paperPixels.length ? percentile(paperPixels, 0.5) : Math.min(...ink.data);
  const stroke = strokePixels.length ? percentile(strokePixels, 0.9) : Math.max(...ink.data);
  if (stroke <= paper) paper = 0;
  const out = picture(w, h);
  if (stroke <= paper) return out;
  // float32 arithmetic, as numpy does it
  const gain = Math.fround(255 / (stroke - paper));
  const floor = 255 * C.paper_share;
  const paper32 = Math.fround(paper);
  for (let i = 0; i < w * h; i++) {
    const level = Math.fround(Math.fround(ink.data[i] - paper32) * gain);
    out.data[i] = level < floor || !reach.data[i] ? 0 : Math.trunc(Math.min(255, Math.max(0, level)));
  }
  return out;
}

/** normalise.stroke_width: twice the ink's area over its edge (outside the crop counts as ink, as cv2.erode). */
function strokeWidth(p) {
  let area = 0;
  let inner = 0;
  for (let y = 0; y < p.height; y++) {
    for (let x = 0; x < p.width; x++) {
      if (!p.data[y * p.width + x]) continue;
      area++;
      let all = true;
      for (let dy = -1; dy <= 1 && all; dy++) {
        for (let dx = -1; dx <= 1 && all; dx++) {
          const sx = x + dx;
          const sy = y + dy;
          if (sx >= 0 && sy >= 0 && sx < p.width && sy < p.height && !p.data[sy * p.width + sx]) all = false;
        }
      }
      inner += all;
    }
  }
  return (2 * area) / Math.max(1, area - inner);
}

/** normalise._with_mnist_pen: a fine pen's digit thickened to MNIST's pen. */
function withMnistPen(p) {
  const width = strokeWidth(p);
  const wanted = C.pen_share * Math.max(p.width, p.height);
  if (width >= C.thin_pen * wanted) return p;
  const grow = pyRound(wanted - width);
  if (grow < 1) return p;
  const padded = picture(p.width + 2 * grow, p.height + 2 * grow);
  for (let y = 0; y < p.height; y++)
    padded.data.set(p.data.subarray(y * p.width, (y + 1) * p.width), (y + grow) * padded.width + grow);
  return dilate(padded, ellipse(grow + 1));
}

/** numpy's float32 sum of a contiguous array (pairwise: eight partial sums for up to 128 values). */
function pairwiseSum(a) {
  const n = a.length;
  if (n < 8) {
    let sum = 0;
    for (const v of a) sum = Math.fround(sum + v);
    return sum;
  }
  if (n <= 128) {
    const r = Float32Array.from(a.subarray(0, 8));
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] += a[i + j];
    const f = Math.fround;
    let sum = f(f(f(r[0] + r[1]) + f(r[2] + r[3])) + f(f(r[4] + r[5]) + f(r[6] + r[7])));
    for (; i < n; i++) sum = f(sum + a[i]);
    return sum;
  }
  const half = Math.floor(n / 2) - (Math.floor(n / 2) % 8);
  return Math.fround(pairwiseSum(a.subarray(0, half)) + pairwiseSum(a.subarray(half)));
}

/** ``values @ arange(n)`` in float32 as numpy's BLAS does it for short vectors: float products, a double sum. */
function dotIndex(values) {
  let sum = 0;
  values.forEach((v, i) => (sum += Math.fround(v * i)));
  return Math.fround(sum);
}

/** normalise.fit_and_centre: tight box -> 20×20 fit -> centre of mass at (14, 14); Float32Array(784) or null. */
function fitAndCentre(region) {
  const [x, y, w0, h0] = boundingRect(region);
  if (w0 === 0) return null;
  let digit = withMnistPen(crop(region, x, y, w0, h0));
  const longer = Math.max(digit.width, digit.height);
  if (longer !== C.BOX) {
    const factor = C.BOX / longer;
    const w = Math.max(1, Math.min(C.BOX, pyRound(digit.width * factor)));
    const h = Math.max(1, Math.min(C.BOX, pyRound(digit.height * factor)));
    digit = factor < 1 ? resizeArea(digit, w, h) : resizeLinear(digit, w, h);
  }
  const values = digit.data.filter((v) => v > 0).sort();
  if (!values.length) return null;
  const peak = values[Math.floor((values.length * 9) / 10)]; // the stroke core, which MNIST has at full white
  const gain = Math.fround(1 / peak);
  const { width: w, height: h } = digit;
  const levels = new Float32Array(w * h);
  levels.forEach((_, i) => (levels[i] = Math.min(Math.fround(digit.data[i] * gain), 1)));
  // the centre of mass in numpy's float32 arithmetic: a digit whose centre falls half a pixel from a grid line is
  // placed by its rounding (the sums' order below is numpy's)
  const mass = pairwiseSum(levels);
  const columns = new Float32Array(w);
  if (w === 1) columns[0] = mass;
  else for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) columns[c] += levels[r * w + c];
  const rows = Float32Array.from({ length: h }, (_, r) => pairwiseSum(levels.subarray(r * w, (r + 1) * w)));
  const left = Math.min(Math.max(pyRound(C.CENTRE - dotIndex(columns) / mass), 0), C.SIZE - w);
  const top = Math.min(Math.max(pyRound(C.CENTRE - dotIndex(rows) / mass), 0), C.SIZE - h);
  const out = new Float32Array(C.SIZE * C.SIZE);
  for (let r = 0; r < h; r++) out.set(levels.subarray(r * w, (r + 1) * w), (top + r) * C.SIZE + left);
  return out;
}

// -- the whole path ----------------------------------------------------------------------------------------------

/**
 * A grey drawing (Uint8Array, width × height, row by row) holding one digit -> {mnist: Float32Array(784) in
 * [0, 1], white on black, or null when there is no digit; box: [x, y, w, h] in the drawing's pixels; beside: how
 * many more digits seem to stand beside it; flat: false when the picture is no clean drawing (not ported)}.
 */
export function toMnist(grey, width, height) {
  if (!C) throw new Error("pipeline constants not loaded (configure(pipeline.json) first)");
  if (Math.min(width, height) < C.work_min_side || Math.max(width, height) > C.work_max_side) {
    throw new Error(
      `a ${width}×${height} canvas: the port reads canvases of ${C.work_min_side}-${C.work_max_side} px a side`,
    );
  }
  const none = (flat) => ({ mnist: null, box: null, beside: 0, flat });
  const source = picture(width, height, grey);
  for (const oneDigitCoarse of [true, false]) {
    let bin = binariseFlat(source, oneDigitCoarse);
    if (!bin) return none(false);
    let lines = withoutPrintedLines(bin);
    // a line across the picture's worth of printed pixels: found again at full size (pipeline._binarised)
    if (bin.coarse && lines.printed >= Math.max(bin.mask.width, bin.mask.height)) {
      bin = binariseFlat(source, false);
      lines = withoutPrintedLines(bin);
    }
    const pieces = withoutUnderlines(bin, findPieces(bin.mask), lines.runs);
    const found = theDigit(bin, pieces);
    if (bin.coarse && (!found || Math.max(found.box[2], found.box[3]) < C.digit_work_side)) continue; // dust, or small
    if (!found) return none(true);
    const region = digitRegion(bin, pieces, found.ids, found.box);
    const step = 1 / bin.scale;
    const [x, y, w, h] = found.box;
    const box = [
      x * step,
      y * step,
      Math.min(width, (x + w) * step) - x * step,
      Math.min(height, (y + h) * step) - y * step,
    ];
    return { mnist: fitAndCentre(region), box, beside: found.beside, flat: true, coarse: bin.coarse };
  }
  return none(true);
}
