// The vcfx audition page: controls from the effect declarations, renders through the HTTP API.
"use strict";

const token = new URLSearchParams(location.search).get("token");
const state = {
  declarations: {},   // effect name -> {effect, summary, domains, params}
  config: null,
  chain: [],          // [{effect, values: {param: text}, files: {param: File}}]
  voice: "example",
  voiceFile: null,
  recording: null,
  original: null,     // analysis of the voice
  result: null,       // analysis of the last render
  active: "original", // which player the A/B switch is on
};
const $ = (id) => document.getElementById(id);
const MiB = 1024 * 1024;
const SPEC_SYNTAX = /[,:()"]/;

function api(path) {
  if (!token) return path;
  return path + (path.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token);
}

async function call(path, options) {
  let response;
  try {
    response = await fetch(api(path), options);
  } catch (err) {
    throw {error: `the server cannot be reached (${err.message}); is vcfx serve still running?`, field: null};
  }
  const text = await response.text();
  let body;
  try { body = JSON.parse(text); } catch (err) { body = {error: text || response.statusText}; }
  if (!response.ok) throw Object.assign({status: response.status, field: null}, body);
  return body;
}

function status(text) { $("status").textContent = text; }

// -- values as spec text -------------------------------------------------------------------------------------

function defaultText(param) {
  const d = param.default;
  if (d === null || d === undefined) return "";
  if (typeof d === "boolean") return d ? "true" : "false";
  if (Array.isArray(d)) return "curve(" + d.map(([t, v]) => `${t}:${v}`).join(";") + ")";
  return String(d);
}

function specValue(param, text) {
  if (text === "") return "none";
  if (param.type === "str" && !param.choices && (SPEC_SYNTAX.test(text) || text.trim() !== text)) {
    return `"${text}"`;
  }
  return text;
}

function specText() {
  return state.chain.map((item) => {
    const decl = state.declarations[item.effect];
    const pairs = decl.params
      .filter((p) => (item.values[p.name] ?? defaultText(p)) !== defaultText(p))
      .map((p) => `${p.name}=${specValue(p, item.values[p.name])}`);
    return item.effect + (pairs.length ? "=" + pairs.join(":") : "");
  }).join(",");
}

// -- the URL holds the chain ---------------------------------------------------------------------------------

function saveToUrl() {
  const params = new URLSearchParams();
  const spec = specText();
  if (spec) params.set("chain", spec);
  params.set("seed", $("seed").value);
  if ($("engine").value) params.set("engine", $("engine").value);
  if (state.voice === "example") params.set("voice", "example");
  history.replaceState(null, "", location.pathname + location.search + "#" + params.toString());
}

async function loadFromUrl() {
  const params = new URLSearchParams(location.hash.slice(1));
  if (params.has("seed")) $("seed").value = params.get("seed");
  if (params.has("engine")) $("engine").value = params.get("engine");
  if (params.get("chain")) await setChainFromSpec(params.get("chain"));
}

async function setChainFromSpec(spec) {
  clearErrors();
  try {
    const body = await call("/api/check?chain=" + encodeURIComponent(spec));
    state.chain = body.effects.map((e) => ({effect: e.effect, values: e.values, files: {}}));
  } catch (err) {
    showError(err);
  }
  drawChain();
}

// -- the palette: one group per registered effect ------------------------------------------------------------

function rangeText(p) {
  const unit = p.unit ? " " + p.unit : "";
  let text = p.range + unit + ", default " + (defaultText(p) || "none");
  if (p.curve) text += ", curve ok";
  return text;
}

function drawPalette(effects) {
  const palette = $("palette");
  palette.replaceChildren();
  for (const decl of effects) {
    const box = document.createElement("div");
    box.className = "palette-effect";
    box.dataset.effect = decl.effect;
    box.innerHTML = `<div class="title"><strong></strong><span class="domains"></span><button type="button">add</button></div>
      <div class="summary"></div><ul></ul>`;
    box.querySelector("strong").textContent = decl.effect;
    box.querySelector(".domains").textContent = decl.domains.length ? `[${decl.domains.join(", ")}]` : "";
    box.querySelector(".domains").className = "hint";
    box.querySelector(".summary").textContent = decl.summary;
    const list = box.querySelector("ul");
    for (const p of decl.params) {
      const li = document.createElement("li");
      li.dataset.param = p.name;
      li.innerHTML = "<code></code> <span></span>";
      li.querySelector("code").textContent = p.name;
      li.querySelector("span").textContent = rangeText(p);
      if (p.choices && p.choices.length > 8) {
        li.querySelector("span").textContent = `one of ${p.choices.length} (${p.choices.slice(0, 3).join(", ")}, …), ` +
          `default ${defaultText(p) || "none"}`;
        li.title = p.choices.join(", ");
      }
      list.append(li);
    }
    box.querySelector("button").addEventListener("click", () => {
      state.chain.push({effect: decl.effect, values: {}, files: {}});
      drawChain();
      changed();
    });
    palette.append(box);
  }
}

// -- the chain editor ----------------------------------------------------------------------------------------

function control(item, index, p) {
  const row = document.createElement("div");
  row.className = "param";
  row.dataset.param = p.name;
  const name = document.createElement("span");
  name.className = "name";
  name.textContent = p.name;
  name.title = p.doc;
  const box = document.createElement("div");
  box.className = "control";
  const current = item.values[p.name] ?? defaultText(p);
  const set = (text) => { item.values[p.name] = text; changed(); };

  if (p.file) {
    if (p.file === "code") {
      box.innerHTML = '<span class="hint">a file loaded and run; not available from the page</span>';
    } else {
      const input = document.createElement("input");
      input.type = "file";
      input.className = "upload";
      input.addEventListener("change", () => {
        const file = input.files[0];
        if (file) item.files[p.name] = file; else delete item.files[p.name];
        set(file ? file.name : "");
      });
      const shown = document.createElement("span");
      shown.className = "hint";
      shown.textContent = current ? `(${current})` : "";
      box.append(input, shown);
    }
  } else if (p.type === "bool") {
    const input = document.createElement("input");
    input.type = "checkbox";
    input.checked = current === "true";
    input.addEventListener("change", () => set(input.checked ? "true" : "false"));
    box.append(input);
  } else if (p.choices) {
    const select = document.createElement("select");
    if (p.optional) select.append(new Option("(none)", ""));
    for (const c of p.choices) select.append(new Option(c, c));
    select.value = current;
    select.addEventListener("change", () => set(select.value));
    box.append(select);
  } else {
    const numeric = p.type === "float" || p.type === "int";
    const text = document.createElement("input");
    text.type = "text";
    text.className = numeric ? "text" : "text wide";
    text.value = current;
    text.spellcheck = false;
    text.setAttribute("aria-label", `${item.effect} ${p.name}`);
    if (numeric) text.placeholder = p.optional ? "none" : "";
    if (numeric && p.low !== null && p.high !== null) {
      const slider = document.createElement("input");
      slider.type = "range";
      slider.min = p.low;
      slider.max = p.high;
      slider.step = p.type === "int" ? 1 : "any";  // any value: a step grid would move the default
      slider.value = isFinite(parseFloat(current)) ? current : (p.default ?? p.low);
      slider.setAttribute("aria-label", `${item.effect} ${p.name} slider`);
      slider.addEventListener("input", () => { text.value = slider.value; set(slider.value); });
      text.addEventListener("input", () => {
        if (/^-?[0-9.]+(e-?[0-9]+)?$/i.test(text.value.trim())) slider.value = text.value;
        set(text.value.trim());
      });
      box.append(slider, text);
    } else {
      text.addEventListener("input", () => set(numeric ? text.value.trim() : text.value));
      box.append(text);
    }
    if (p.unit) {
      const unit = document.createElement("span");
      unit.className = "unit";
      unit.textContent = p.unit;
      box.append(unit);
    }
  }
  const info = document.createElement("span");
  info.className = "range";
  info.textContent = p.file === "data" ? `${p.doc}; upload one` : rangeText(p);
  info.title = p.doc + (p.type === "float" || p.type === "int"
    ? ". Also uniform(LOW,HIGH) or choice(A,B,…), drawn from the seed" + (p.curve ? ", or curve(TIME:VALUE;…)" : "")
    : "");
  const error = document.createElement("p");
  error.className = "error";
  error.dataset.errorFor = `chain.${index}.${p.name}`;
  row.append(name, box, info, error);
  return row;
}

function drawChain() {
  const list = $("chain");
  list.replaceChildren();
  state.chain.forEach((item, index) => {
    const decl = state.declarations[item.effect];
    const li = document.createElement("li");
    li.className = "effect";
    li.dataset.effect = item.effect;
    li.dataset.index = index;
    li.innerHTML = `<header><strong></strong>
      <button type="button" class="up" title="move up">↑</button>
      <button type="button" class="down" title="move down">↓</button>
      <button type="button" class="remove" title="remove">✕</button></header>`;
    li.querySelector("strong").textContent = `${index + 1}. ${item.effect}`;
    li.querySelector("strong").title = decl.summary;
    const move = (to) => {
      if (to < 0 || to >= state.chain.length) return;
      const [moved] = state.chain.splice(index, 1);
      state.chain.splice(to, 0, moved);
      drawChain();
      changed();
    };
    li.querySelector(".up").addEventListener("click", () => move(index - 1));
    li.querySelector(".down").addEventListener("click", () => move(index + 1));
    li.querySelector(".remove").addEventListener("click", () => {
      state.chain.splice(index, 1);
      drawChain();
      changed();
    });
    for (const p of decl.params) li.append(control(item, index, p));
    const error = document.createElement("p");
    error.className = "error";
    error.dataset.errorFor = `chain.${index}`;
    li.append(error);
    list.append(li);
  });
  $("chain-empty").hidden = state.chain.length > 0;
}

// -- errors next to the control that caused them -------------------------------------------------------------

function clearErrors() {
  for (const el of document.querySelectorAll("[data-error-for]")) el.textContent = "";
  for (const el of document.querySelectorAll(".effect.has-error")) el.classList.remove("has-error");
}

function showError(err) {
  const message = err.error || String(err);
  let target = null;
  if (err.field === "chain" && err.index !== null && err.index !== undefined) {
    target = document.querySelector(`[data-error-for="chain.${err.index}.${err.param}"]`) ||
             document.querySelector(`[data-error-for="chain.${err.index}"]`);
    const card = document.querySelector(`.effect[data-index="${err.index}"]`);
    if (card) card.classList.add("has-error");
  }
  target = target || document.querySelector(`[data-error-for="${err.field}"]`) || $("error-chain");
  target.textContent = message;
  status(message);
}

let checking = 0;
function changed() {
  saveToUrl();
  const mine = ++checking;
  setTimeout(async () => {
    if (mine !== checking) return;
    const spec = specText();
    if (!spec) { clearErrors(); return; }
    try {
      await call("/api/check?chain=" + encodeURIComponent(spec));
      if (mine === checking) { clearErrors(); status("ready"); }
    } catch (err) {
      if (mine === checking) { clearErrors(); showError(err); }
    }
  }, 250);
}

// -- the voice -----------------------------------------------------------------------------------------------

function voiceForm(form) {
  if (state.voice === "example") { form.append("voice", "example"); return true; }
  const file = state.voice === "file" ? state.voiceFile : state.recording;
  if (!file) {
    showError({field: "audio", error: state.voice === "file" ? "choose a file first" : "record something first"});
    return false;
  }
  if (file.size > state.config.max_upload_mb * MiB) {
    showError({field: "audio", error: `${file.name} is ${(file.size / MiB).toFixed(1)} MB; this server takes ` +
      `uploads up to ${state.config.max_upload_mb} MB (vcfx serve --max-upload-mb)`});
    return false;
  }
  form.append("audio", file, file.name);
  return true;
}

async function analyzeVoice() {
  clearErrors();
  const form = new FormData();
  if (!voiceForm(form)) return;
  status("measuring the voice…");
  try {
    state.original = await call("/api/analyze", {method: "POST", body: form});
    state.result = null;
    $("result-audio").removeAttribute("src");
    $("ab").disabled = true;
    $("download").hidden = true;
    drawPlots();
    showChange(null);
    status(`voice: ${state.original.duration_s.toFixed(2)} s, ${state.original.sample_rate} Hz`);
  } catch (err) {
    showError(err);
  }
}

function wavFile(buffer, name) {
  const rate = buffer.sampleRate, frames = buffer.length;
  const mono = new Float32Array(frames);
  for (let c = 0; c < buffer.numberOfChannels; c++) {
    const data = buffer.getChannelData(c);
    for (let i = 0; i < frames; i++) mono[i] += data[i] / buffer.numberOfChannels;
  }
  const bytes = new DataView(new ArrayBuffer(44 + frames * 2));
  const text = (at, s) => { for (let i = 0; i < s.length; i++) bytes.setUint8(at + i, s.charCodeAt(i)); };
  text(0, "RIFF"); bytes.setUint32(4, 36 + frames * 2, true); text(8, "WAVE");
  text(12, "fmt "); bytes.setUint32(16, 16, true); bytes.setUint16(20, 1, true); bytes.setUint16(22, 1, true);
  bytes.setUint32(24, rate, true); bytes.setUint32(28, rate * 2, true); bytes.setUint16(32, 2, true);
  bytes.setUint16(34, 16, true); text(36, "data"); bytes.setUint32(40, frames * 2, true);
  for (let i = 0; i < frames; i++) {
    bytes.setInt16(44 + i * 2, Math.round(Math.max(-1, Math.min(1, mono[i])) * 32767), true);
  }
  return new File([bytes.buffer], name, {type: "audio/wav"});
}

let recorder = null;
async function toggleRecording() {
  if (recorder) { recorder.stop(); return; }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({audio: true});
  } catch (err) {
    showError({field: "audio", error: `no microphone: ${err.message}`});
    return;
  }
  const chunks = [];
  recorder = new MediaRecorder(stream);
  recorder.addEventListener("dataavailable", (e) => chunks.push(e.data));
  recorder.addEventListener("stop", async () => {
    stream.getTracks().forEach((t) => t.stop());
    recorder = null;
    $("record").textContent = "record";
    const blob = new Blob(chunks, {type: chunks[0]?.type || "audio/webm"});
    try {
      const decoded = await new AudioContext().decodeAudioData(await blob.arrayBuffer());
      state.recording = wavFile(decoded, "recording.wav");
      document.querySelector('input[name=voice][value=recording]').checked = true;
      state.voice = "recording";
      saveToUrl();
      analyzeVoice();
    } catch (err) {
      showError({field: "audio", error: `the recording cannot be decoded: ${err.message}`});
    }
  });
  recorder.start();
  $("record").textContent = "stop";
  status("recording… press stop when done");
}

// -- rendering -----------------------------------------------------------------------------------------------

async function render() {
  clearErrors();
  const spec = specText();
  if (!spec) { showError({field: "chain", error: "the chain is empty: add an effect from the list below"}); return; }
  const form = new FormData();
  if (!voiceForm(form)) return;
  form.append("chain", spec);
  form.append("seed", $("seed").value);
  form.append("engine", $("engine").value);
  const job = Math.random().toString(36).slice(2);
  form.append("job", job);
  for (const item of state.chain) for (const file of Object.values(item.files)) form.append("files", file, file.name);
  $("render").disabled = true;
  status("rendering…");
  const started = performance.now();
  const poll = setInterval(async () => {
    try {
      const p = await call("/api/progress/" + job);
      if (p.stage) $("progress").textContent = `${p.stage}… ${p.elapsed_s.toFixed(1)} s`;
    } catch (err) { /* the render's own answer reports errors */ }
  }, 700);
  try {
    const body = await call("/api/render", {method: "POST", body: form});
    state.original = body.analysis.original;
    state.result = body.analysis.result;
    const wasOn = state.active;
    $("original-audio").src = api(body.original_url);
    $("result-audio").src = api(body.result_url);
    $("ab").disabled = false;
    setActive(wasOn === "result" ? "result" : "original");
    $("spec-text").value = body.chain ?? "(this chain has no spec string form; use the preset)";
    $("preset-text").value = body.preset;
    $("download").href = api(body.result_url);
    $("download").hidden = false;
    $("notes").textContent = body.notes.join(" ");
    drawPlots();
    showChange(body.change);
    const took = ((performance.now() - started) / 1000).toFixed(1);
    document.body.dataset.rendered = body.id;
    status(`rendered in ${took} s: ${body.result.duration_s.toFixed(2)} s at ${body.result.sample_rate} Hz, seed ${body.seed}`);
  } catch (err) {
    showError(err);
  } finally {
    clearInterval(poll);
    $("progress").textContent = "";
    $("render").disabled = false;
  }
}

function showChange(change) {
  const put = (id, text) => { $(id).textContent = text; };
  const median = (a) => {
    const v = a.f0.hz.filter((x) => x !== null).sort((x, y) => x - y);
    return v.length ? `${v[Math.floor(v.length / 2)].toFixed(0)} Hz` : "unvoiced";
  };
  if (state.original) {
    put("pitch-in", median(state.original));
    put("duration-in", `${state.original.duration_s.toFixed(2)} s`);
    put("level-in", `${state.original.level_dbfs.toFixed(1)} dBFS`);
  }
  if (!change) {
    for (const id of ["pitch-out", "pitch-change", "duration-out", "duration-change", "level-out", "level-change"]) put(id, "–");
    return;
  }
  put("pitch-out", median(state.result));
  put("pitch-change", change.pitch_cents === null ? "–" : `${change.pitch_cents > 0 ? "+" : ""}${change.pitch_cents.toFixed(0)} cents`);
  $("pitch-change").title = change.pitch_how;
  put("duration-out", `${change.duration_out_s.toFixed(2)} s`);
  put("duration-change", `× ${change.duration_ratio.toFixed(3)}`);
  put("level-out", `${change.level_out_dbfs.toFixed(1)} dBFS`);
  put("level-change", `${change.level_change_db > 0 ? "+" : ""}${change.level_change_db.toFixed(1)} dB`);
}

// -- A/B: one position, two sounds ---------------------------------------------------------------------------

function setActive(which) {
  state.active = which;
  $("ab").textContent = which === "original" ? "A/B: on A (original)" : "A/B: on B (result)";
  $("ab").setAttribute("aria-pressed", which === "result");
  $("original-audio").parentElement.classList.toggle("active", which === "original");
  $("result-audio").parentElement.classList.toggle("active", which === "result");
}

function switchAB() {
  if ($("ab").disabled) return;
  const from = state.active === "original" ? $("original-audio") : $("result-audio");
  const to = state.active === "original" ? $("result-audio") : $("original-audio");
  const playing = !from.paused;
  const at = from.currentTime;
  from.pause();
  to.currentTime = isFinite(to.duration) ? Math.min(at, to.duration) : at;
  setActive(state.active === "original" ? "result" : "original");
  if (playing) to.play();
}

// -- plots on one time axis ----------------------------------------------------------------------------------

const LEFT = 56, BOTTOM = 20, TOP = 6, RIGHT = 26;
const colours = {original: "#1f6fb4", result: "#d9480f"};
const bases = new Map();   // canvas -> its drawing without the cursor

function timeSpan() {
  return Math.max(state.original?.duration_s || 0, state.result?.duration_s || 0) || 1;
}

function prepare(canvas) {
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(canvas.clientWidth * ratio);
  canvas.height = Math.round(canvas.clientHeight * ratio);
  const ctx = canvas.getContext("2d", {willReadFrequently: true});
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, canvas.clientWidth, canvas.clientHeight);
  ctx.font = "12px system-ui, sans-serif";
  return {ctx, w: canvas.clientWidth - LEFT - RIGHT, h: canvas.clientHeight - TOP - BOTTOM};
}

function timeAxis(ctx, w, h, grid = true) {
  const span = timeSpan();
  const step = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300].find((s) => span / s <= 10) || 600;
  ctx.fillStyle = "#59636e";
  ctx.strokeStyle = "#d0d7de";
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (let t = 0; t <= span + 1e-9; t += step) {
    const x = LEFT + (t / span) * w;
    ctx.beginPath(); ctx.moveTo(x, grid ? TOP : TOP + h); ctx.lineTo(x, TOP + h + 3); ctx.stroke();
    ctx.fillText(`${+t.toFixed(2)} s`, x, TOP + h + 4);
  }
}

function label(ctx, text, y, colour) {
  ctx.fillStyle = colour || "#59636e";
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  ctx.fillText(text, LEFT - 6, y);
}

function drawWaveform() {
  const canvas = $("waveform");
  const {ctx, w, h} = prepare(canvas);
  timeAxis(ctx, w, h);
  const lanes = [["original", state.original], ["result", state.result]];
  const lane = h / 2;
  lanes.forEach(([name, a], i) => {
    const mid = TOP + lane * i + lane / 2;
    label(ctx, name === "original" ? "A" : "B", mid, colours[name]);
    if (!a) return;
    const width = (a.duration_s / timeSpan()) * w;
    const n = a.waveform.min.length;
    const peak = Math.max(1e-6, ...a.waveform.max.map(Math.abs), ...a.waveform.min.map(Math.abs));
    ctx.fillStyle = colours[name];
    for (let k = 0; k < n; k++) {
      const x = LEFT + (k / n) * width;
      const top = mid - (a.waveform.max[k] / peak) * (lane / 2 - 3);
      const bottom = mid - (a.waveform.min[k] / peak) * (lane / 2 - 3);
      ctx.fillRect(x, top, Math.max(1, width / n), Math.max(1, bottom - top));
    }
  });
  bases.set(canvas, ctx.getImageData(0, 0, canvas.width, canvas.height));
}

const MAGMA = [[0, 0, 4], [40, 11, 84], [101, 21, 110], [159, 42, 99], [212, 72, 66], [245, 125, 21], [250, 193, 39], [252, 255, 164]];
function colour(v) {
  const x = (v / 255) * (MAGMA.length - 1), i = Math.min(MAGMA.length - 2, Math.floor(x)), f = x - i;
  return MAGMA[i].map((c, k) => Math.round(c + f * (MAGMA[i + 1][k] - c)));
}
const PALETTE = Array.from({length: 256}, (_, v) => colour(v));

function drawSpectrogram(canvas, a) {
  const {ctx, w, h} = prepare(canvas);
  const ratio = canvas.width / canvas.clientWidth;
  if (a) {
    const s = a.spectrogram;
    const data = Uint8Array.from(atob(s.data), (c) => c.charCodeAt(0));
    // one colour scale for both: the louder one's peak is the top
    const top = Math.max(...[state.original, state.result].filter(Boolean).map((v) => v.spectrogram.peak_db));
    const shift = ((s.peak_db - top) * 255) / s.db_range;
    const pw = Math.max(1, Math.round((a.duration_s / timeSpan()) * w * ratio)), ph = Math.round(h * ratio);
    const image = ctx.createImageData(pw, ph);
    for (let y = 0; y < ph; y++) {
      const row = Math.min(s.rows - 1, Math.floor(((ph - 1 - y) / ph) * s.rows));
      for (let x = 0; x < pw; x++) {
        const col = Math.min(s.columns - 1, Math.floor((x / pw) * s.columns));
        const [r, g, b] = PALETTE[Math.max(0, Math.round(data[row * s.columns + col] + shift))];
        const at = (y * pw + x) * 4;
        image.data[at] = r; image.data[at + 1] = g; image.data[at + 2] = b; image.data[at + 3] = 255;
      }
    }
    ctx.putImageData(image, Math.round(LEFT * ratio), Math.round(TOP * ratio));
    for (const el of document.querySelectorAll(".top-hz")) el.textContent = (s.top_hz / 1000).toFixed(s.top_hz % 1000 ? 2 : 0);
    for (let k = 0; k <= 4; k++) label(ctx, `${+((s.top_hz * k) / 4000).toFixed(1)} kHz`, TOP + h - (k / 4) * h);
  }
  timeAxis(ctx, w, h, false);
  bases.set(canvas, ctx.getImageData(0, 0, canvas.width, canvas.height));
}

function drawF0() {
  const canvas = $("f0");
  const {ctx, w, h} = prepare(canvas);
  const tracks = [["original", state.original], ["result", state.result]].filter(([, a]) => a);
  const voiced = tracks.flatMap(([, a]) => a.f0.hz.filter((v) => v !== null));
  let low = voiced.length ? Math.min(...voiced) : 80, high = voiced.length ? Math.max(...voiced) : 400;
  low = Math.max(40, low / 1.15); high = high * 1.15;
  const y = (hz) => TOP + h - (Math.log(hz / low) / Math.log(high / low)) * h;
  timeAxis(ctx, w, h);
  ctx.strokeStyle = "#eaeef2";
  for (const hz of [50, 75, 100, 150, 200, 300, 400, 600, 800, 1200]) {
    if (hz < low || hz > high) continue;
    ctx.beginPath(); ctx.moveTo(LEFT, y(hz)); ctx.lineTo(LEFT + w, y(hz)); ctx.stroke();
    label(ctx, `${hz} Hz`, y(hz));
  }
  for (const [name, a] of tracks) {
    ctx.strokeStyle = colours[name];
    ctx.lineWidth = name === "result" ? 2.2 : 1.8;
    ctx.beginPath();
    let drawing = false;
    a.f0.times_s.forEach((t, k) => {
      const hz = a.f0.hz[k];
      if (hz === null) { drawing = false; return; }
      const x = LEFT + (t / timeSpan()) * w;
      if (drawing) ctx.lineTo(x, y(hz)); else ctx.moveTo(x, y(hz));
      drawing = true;
    });
    ctx.stroke();
  }
  ctx.lineWidth = 1;
  $("f0-method").textContent = state.original?.f0.method || "pYIN";
  bases.set(canvas, ctx.getImageData(0, 0, canvas.width, canvas.height));
}

function drawPlots() {
  drawWaveform();
  drawSpectrogram($("spec-original"), state.original);
  drawSpectrogram($("spec-result"), state.result);
  drawF0();
}

function drawCursor() {
  const player = state.active === "original" ? $("original-audio") : $("result-audio");
  for (const [canvas, base] of bases) {
    const ctx = canvas.getContext("2d", {willReadFrequently: true});
    ctx.putImageData(base, 0, 0);
    if (player.currentTime > 0) {
      const w = canvas.clientWidth - LEFT - RIGHT;
      const x = LEFT + (player.currentTime / timeSpan()) * w;
      ctx.strokeStyle = "#0b8a3e";
      ctx.lineWidth = 2;
      ctx.beginPath(); ctx.moveTo(x, TOP); ctx.lineTo(x, canvas.clientHeight - BOTTOM); ctx.stroke();
      ctx.lineWidth = 1;
    }
  }
  if (!player.paused) requestAnimationFrame(drawCursor);
}

// -- start ---------------------------------------------------------------------------------------------------

async function start() {
  try {
    const [config, effects, presets] = await Promise.all([call("/api/config"), call("/api/effects"), call("/api/presets")]);
    state.config = config;
    for (const decl of effects.effects) state.declarations[decl.effect] = decl;
    drawPalette(effects.effects);
    for (const engine of config.engines) $("engine").append(new Option(engine, engine));
    if (config.engine) $("engine").value = config.engine;
    for (const p of presets.presets) {
      const option = new Option(p.name, p.chain || "");
      option.title = p.summary;
      option.disabled = !p.chain;
      $("preset").append(option);
    }
    await loadFromUrl();
    drawChain();
    status(`vcfx ${config.version}: ${effects.effects.length} effects, engines ${config.engines.join(", ")}`);
    await analyzeVoice();
    document.body.dataset.ready = "true";
  } catch (err) {
    showError(err);
  }
}

$("preset").addEventListener("change", async () => {
  if ($("preset").value) { await setChainFromSpec($("preset").value); changed(); }
  $("preset").value = "";
});
$("clear-chain").addEventListener("click", () => { state.chain = []; drawChain(); changed(); });
$("render").addEventListener("click", render);
$("ab").addEventListener("click", switchAB);
$("record").addEventListener("click", toggleRecording);
$("seed").addEventListener("input", changed);
$("engine").addEventListener("change", changed);
$("voice-file").addEventListener("change", () => {
  state.voiceFile = $("voice-file").files[0] || null;
  document.querySelector('input[name=voice][value=file]').checked = true;
  state.voice = "file";
  saveToUrl();
  if (state.voiceFile) analyzeVoice();
});
for (const radio of document.querySelectorAll("input[name=voice]")) {
  radio.addEventListener("change", () => { state.voice = radio.value; saveToUrl(); analyzeVoice(); });
}
for (const button of document.querySelectorAll("button.copy")) {
  button.addEventListener("click", async () => {
    const text = $(button.dataset.copy).value;
    try { await navigator.clipboard.writeText(text); status("copied"); }
    catch (err) { $(button.dataset.copy).select(); document.execCommand("copy"); status("copied"); }
  });
}
for (const [id, which] of [["original-audio", "original"], ["result-audio", "result"]]) {
  $(id).addEventListener("play", () => {
    const other = which === "original" ? $("result-audio") : $("original-audio");
    if (!other.paused) other.pause();
    if (state.active !== which && !$("ab").disabled) setActive(which);
    requestAnimationFrame(drawCursor);
  });
  $(id).addEventListener("seeked", drawCursor);
}
document.addEventListener("keydown", (e) => {
  if (e.code === "Space" && !["INPUT", "TEXTAREA", "SELECT", "BUTTON"].includes(document.activeElement.tagName)) {
    e.preventDefault();
    switchAB();
  }
});
window.addEventListener("resize", () => { if (state.original) drawPlots(); });
start();
