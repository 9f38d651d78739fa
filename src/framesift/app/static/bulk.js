// Bulk labeler: a video's timeline, a range slider, range and batch labeling with model pre-labels.
"use strict";

const B = { videos: [], video: null, strip: null, grid: null, items: [] };

const $ = (id) => document.getElementById(id);

function range() { return [Number($("lo").value), Number($("hi").value)]; }

function setRange(lo, hi, reload = true) {
  const v = B.video;
  lo = Math.max(v.first_frame, Math.min(v.last_frame, Math.round(lo)));
  hi = Math.max(lo, Math.min(v.last_frame, Math.round(hi)));
  $("lo").value = lo;
  $("hi").value = hi;
  const fps = v.fps || 25;
  $("range-text").textContent = `frames ${lo}–${hi} (${FS.fmtTime(lo / fps)}–${FS.fmtTime(hi / fps)}) of ${v.first_frame}–${v.last_frame}`;
  drawStrip();
  return reload ? loadGrid() : Promise.resolve();
}

async function loadStrip() {
  const c = FS.conceptId ? `?concept_id=${FS.conceptId}` : "";
  B.strip = await FS.api(`/api/videos/${B.video.id}/strip${c}`);
  drawStrip();
}

function drawStrip() {
  const canvas = $("strip");
  if (!canvas || !B.video) return;
  canvas.width = Math.max(300, Math.round(canvas.getBoundingClientRect().width));
  const ctx = canvas.getContext("2d");
  const v = B.video, span = Math.max(1, v.last_frame - v.first_frame + 1);
  const x = (f) => ((f - v.first_frame) / span) * canvas.width;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = "#eef1f5";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  if (B.strip) {
    const w = Math.max(1, canvas.width / span);
    B.strip.frame_index.forEach((f, i) => {
      const s = B.strip.score[i];
      if (s !== null) { ctx.fillStyle = `rgba(47,111,222,${0.1 + 0.8 * s})`; ctx.fillRect(x(f), 22, w, 12); }
      const l = B.strip.label[i];
      if (l >= 0) { ctx.fillStyle = l === 1 ? "#1f9d55" : "#d64545"; ctx.fillRect(x(f), 2, w, 18); }
    });
  }
  const [lo, hi] = range();
  ctx.strokeStyle = "#1d2330";
  ctx.lineWidth = 2;
  ctx.strokeRect(x(lo), 1, Math.max(2, x(hi + 1) - x(lo)), canvas.height - 2);
}

async function loadCurveNames() {
  const names = await FS.api("/api/score-names");
  const select = $("curve");
  for (const name of names) {
    const option = document.createElement("option");
    option.value = option.textContent = name;
    select.appendChild(option);
  }
}

async function loadCurve() {
  const name = $("curve").value;
  B.curve = name && B.video ? await FS.api(`/api/videos/${B.video.id}/series?score=${encodeURIComponent(name)}`) : null;
  drawCurve();
}

function drawCurve() {
  // One score over the whole video on the strip's frame axis, scaled to its own min..max.
  const canvas = $("curve-canvas");
  canvas.hidden = !B.curve;
  if (!B.curve || !B.video) { $("curve-text").textContent = ""; return; }
  canvas.width = Math.max(300, Math.round($("strip").getBoundingClientRect().width));
  const ctx = canvas.getContext("2d");
  const v = B.video, span = Math.max(1, v.last_frame - v.first_frame + 1);
  const values = B.curve.value;
  const lo = Math.min(...values), hi = Math.max(...values);
  $("curve-text").textContent = values.length ? `${values.length} values, ${lo.toFixed(3)}–${hi.toFixed(3)}` : "no values for this video";
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = "#f7f8fa";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.strokeStyle = "#2f6fde";
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  B.curve.frame_index.forEach((f, i) => {
    const px = ((f - v.first_frame) / span) * canvas.width;
    const py = canvas.height - 4 - ((values[i] - lo) / Math.max(1e-12, hi - lo)) * (canvas.height - 8);
    if (i === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
  });
  ctx.stroke();
}

async function loadGrid() {
  const [lo, hi] = range();
  const n = Math.max(1, Math.min(1000, Number($("count").value) || 48));
  const c = FS.conceptId ? `&concept_id=${FS.conceptId}` : "";
  const seq = (B.seq = (B.seq || 0) + 1);  // a slower, older answer must not replace a newer window
  try {
    let items;
    if ($("mode").value === "frames") {
      const res = await FS.api(`/api/videos/${B.video.id}/timeline?start=${lo}&end=${hi}&n=${n}${c}`);
      items = res.items;
    } else {
      const task = encodeURIComponent($("mode").value.slice(5));
      const res = await FS.api(`/api/videos/${B.video.id}/crops?task=${task}&start=${lo}&end=${hi}&limit=${n}${c}`);
      // The detector's score ranks the crops; it is not a pre-label for the concept.
      items = res.items.map((it) => Object.assign(it, { video: B.video.name, id: it.frame_id, det_score: it.score, score: null }));
    }
    if (seq !== B.seq) return;
    if ($("order").value === "score") items.sort((a, b) => (b.score ?? -1) - (a.score ?? -1));
    B.items = items;
    await B.grid.setItems(items);
    FS.activeGrid = B.grid;
    B.grid.paint();
  } catch (err) { FS.fail(err); }
}

function labelRange(value) {
  if (!FS.requireConcept()) return;
  const [lo, hi] = range();
  FS.putLabels({ video_id: B.video.id, start_frame: lo, end_frame: hi, value, source: "bulk" })
    .then(() => Promise.all([loadStrip(), loadGrid()]));
}

function shiftWindow(direction) {
  const [lo, hi] = range();
  const width = hi - lo + 1;
  const v = B.video;
  let nlo = lo + direction * width;
  nlo = Math.max(v.first_frame, Math.min(v.last_frame - width + 1, nlo));
  setRange(nlo, nlo + width - 1);
}

function cursorFrame() {
  const it = B.grid.items[B.grid.cursor];
  return it ? it.frame_index : null;
}

function keys(e) {
  const k = e.key;
  if (k === "Y" || k === "P") labelRange(1);
  else if (k === "N") labelRange(0);
  else if (k === "X") labelRange(null);
  else if (k === "[" && cursorFrame() !== null) setRange(cursorFrame(), range()[1]);
  else if (k === "]" && cursorFrame() !== null) setRange(range()[0], cursorFrame());
  else if (k === ",") shiftWindow(-1);
  else if (k === ".") shiftWindow(1);
  else if (k === "r") setRange(B.video.first_frame, B.video.last_frame);
  else if (k === "s") { $("order").value = $("order").value === "time" ? "score" : "time"; loadGrid(); }
  else if (k === "z") {
    const idx = B.grid.targets();
    if (idx.length) {
      const frames = idx.map((i) => B.grid.items[i].frame_index);
      setRange(Math.min(...frames), Math.max(...frames));
    }
  } else return false;
  return true;
}

async function chooseVideo(id, at = null) {
  B.video = B.videos.find((v) => v.id === id) || B.videos[0];
  $("video").value = B.video.id;
  for (const el of [$("lo"), $("hi")]) { el.min = B.video.first_frame; el.max = B.video.last_frame; }
  await Promise.all([loadStrip(), loadCurve()]);
  if (at !== null) await setRange(at - 60, at + 60);
  else await setRange(B.video.first_frame, B.video.last_frame);
}

(async function main() {
  await FS.boot("/bulk");
  B.grid = new FS.Grid($("grid"), { w: 192, source: "bulk", prelabels: true, empty: "no frames in this range",
    onLabel: () => { clearTimeout(B.stripTimer); B.stripTimer = setTimeout(loadStrip, 400); } });
  FS.activeGrid = B.grid;
  FS.installKeys(keys);
  if (FS.params.get("count")) $("count").value = Math.max(1, Math.min(1000, Number(FS.params.get("count")) || 48));
  B.videos = await FS.api("/api/videos");
  if (!B.videos.length) { $("grid").innerHTML = `<div class="note">No ingested videos in this workspace.</div>`; return; }
  $("video").innerHTML = B.videos.map((v) => `<option value="${v.id}">${FS.esc(v.name)}.${FS.esc(v.ext)} (${v.n_indexed} frames)</option>`).join("");
  const tasks = await FS.api("/api/tasks");
  $("mode").innerHTML += tasks.filter((t) => t.n_boxes > 0).map((t) => `<option value="crop:${FS.esc(t.name)}">crops of ${FS.esc(t.name)}</option>`).join("");
  $("video").onchange = () => chooseVideo(Number($("video").value));
  $("lo").oninput = () => { if (Number($("lo").value) > Number($("hi").value)) $("lo").value = $("hi").value; setRange(...range(), false); };
  $("hi").oninput = () => { if (Number($("hi").value) < Number($("lo").value)) $("hi").value = $("lo").value; setRange(...range(), false); };
  $("lo").onchange = loadGrid;
  $("hi").onchange = loadGrid;
  $("count").onchange = loadGrid;
  $("mode").onchange = loadGrid;
  await loadCurveNames();
  if (FS.params.get("curve")) $("curve").value = FS.params.get("curve");
  $("curve").onchange = loadCurve;
  $("order").onchange = loadGrid;
  $("prev").onclick = () => shiftWindow(-1);
  $("next").onclick = () => shiftWindow(1);
  $("full").onclick = () => setRange(B.video.first_frame, B.video.last_frame);
  $("range-yes").onclick = () => labelRange(1);
  $("range-no").onclick = () => labelRange(0);
  $("range-clear").onclick = () => labelRange(null);
  $("strip").addEventListener("click", (e) => {
    const v = B.video, [lo, hi] = range(), width = hi - lo;
    const f = v.first_frame + (e.offsetX / $("strip").width) * (v.last_frame - v.first_frame + 1);
    setRange(f - width / 2, f + width / 2);
  });
  document.addEventListener("fs:concept", () => { loadStrip(); loadGrid(); });
  document.addEventListener("fs:saved", () => { $("saved").textContent = FS.pending ? `saving ${FS.pending}…` : "all labels saved"; });
  window.addEventListener("resize", () => { drawStrip(); drawCurve(); });
  const video = Number(FS.params.get("video")) || null;
  const at = FS.params.get("at");
  await chooseVideo(video, at !== null ? Number(at) : null);
  FS.ready = true;
})();
