// Explorer: embedding map with labeled/selected frames, filters, click a point to see the frame.
"use strict";

const E = { fields: [], filters: [], points: null, view: { x0: 0, y0: 0, k: 1 }, offset: 0, grid: null };

function fieldKey(f) { return `${f.kind}|${f.task || ""}|${f.key}`; }

function filterRow(spec) {
  const row = document.createElement("div");
  row.className = "filter";
  const options = E.fields.map((f) => `<option value="${FS.esc(fieldKey(f))}">${FS.esc(f.label)}</option>`).join("");
  row.innerHTML = `<select class="field">${options}</select><span class="a"></span><span class="b"></span><button title="remove">✕</button>`;
  const select = row.querySelector(".field");
  const draw = () => {
    const f = E.fields.find((x) => fieldKey(x) === select.value);
    const a = row.querySelector(".a"), b = row.querySelector(".b");
    if (f.type === "range") {
      a.innerHTML = `<input type="number" class="min" step="any" placeholder="${f.min === null ? "min" : +f.min.toFixed(3)}">`;
      b.innerHTML = `<input type="number" class="max" step="any" placeholder="${f.max === null ? "max" : +f.max.toFixed(3)}">`;
    } else {
      a.innerHTML = `<select class="val">${f.values.map((v) => `<option>${FS.esc(v)}</option>`).join("")}</select>`;
      b.innerHTML = "";
    }
  };
  select.addEventListener("change", draw);
  if (spec) select.value = spec;
  draw();
  row.querySelector("button").addEventListener("click", () => row.remove());
  document.getElementById("filters").appendChild(row);
}

function readFilters() {
  return [...document.querySelectorAll("#filters .filter")].map((row) => {
    const f = E.fields.find((x) => fieldKey(x) === row.querySelector(".field").value);
    const spec = { kind: f.kind, key: String(f.key) };
    if (f.task) spec.task = f.task;
    if (f.type === "range") {
      const min = row.querySelector(".min").value, max = row.querySelector(".max").value;
      if (min !== "") spec.min = Number(min);
      if (max !== "") spec.max = Number(max);
    } else {
      const v = row.querySelector(".val").value;
      spec.values = [f.kind === "labeled" || f.kind === "selected" ? v === "true" : v];
    }
    return spec;
  });
}

function body() {
  const run = document.getElementById("run").value;
  return { filters: E.filters, concept_id: FS.conceptId, run: run || null };
}

async function loadMap() {
  const status = document.getElementById("map-status");
  try {
    E.points = await FS.api("/api/map", { method: "POST", body: body() });
    status.textContent = E.points.reason || `${E.points.points} of ${E.points.n_total} frames shown (${E.points.method} projection${E.points.thinned ? `, a sample of the ${E.points.n_match} matching` : ""})` +
      (E.points.run ? ` · selection: ${E.points.run}` : "");
    draw();
  } catch (err) { FS.fail(err); }
}

function toScreen(canvas, x, y) {
  const pad = 12, v = E.view;
  return [pad + ((x - v.x0) * v.k) * (canvas.width - 2 * pad), pad + ((y - v.y0) * v.k) * (canvas.height - 2 * pad)];
}

function colour(i) {
  const p = E.points;
  if (document.getElementById("color").value === "score" && p.score) {
    const s = p.score[i];
    return `rgb(${Math.round(40 + 200 * s)},${Math.round(90 + 40 * (1 - Math.abs(s - 0.5) * 2))},${Math.round(220 - 190 * s)})`;
  }
  const f = p.flags[i];
  if (f & 4) return "#1f9d55";
  if (f & 8) return "#d64545";
  if (f & 1) return "#e8890c";
  return "#9aa3b2";
}

function draw() {
  const canvas = document.getElementById("map");
  const rect = canvas.getBoundingClientRect();
  canvas.width = Math.max(300, Math.round(rect.width));
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const p = E.points;
  if (!p || !p.id) return;
  const order = p.id.map((_, i) => i).sort((a, b) => (p.flags[a] & 13) - (p.flags[b] & 13));
  for (const i of order) {
    const [sx, sy] = toScreen(canvas, p.x[i], p.y[i]);
    if (sx < -5 || sy < -5 || sx > canvas.width + 5 || sy > canvas.height + 5) continue;
    ctx.fillStyle = colour(i);
    ctx.beginPath(); ctx.arc(sx, sy, p.flags[i] & 13 ? 3.5 : 2.5, 0, 6.2832); ctx.fill();
    if (p.flags[i] & 2) { ctx.strokeStyle = "#2f6fde"; ctx.lineWidth = 1.5; ctx.beginPath(); ctx.arc(sx, sy, 5, 0, 6.2832); ctx.stroke(); }
    if (p.id[i] === E.picked) { ctx.strokeStyle = "#000"; ctx.lineWidth = 2; ctx.beginPath(); ctx.arc(sx, sy, 8, 0, 6.2832); ctx.stroke(); }
  }
}

function nearest(canvas, mx, my) {
  const p = E.points;
  let best = -1, bestD = 64;
  if (!p || !p.id) return -1;
  for (let i = 0; i < p.id.length; i++) {
    const [sx, sy] = toScreen(canvas, p.x[i], p.y[i]);
    const d = (sx - mx) ** 2 + (sy - my) ** 2;
    if (d < bestD) { bestD = d; best = i; }
  }
  return best;
}

async function showInfo(id) {
  E.picked = id;
  draw();
  const box = document.getElementById("info");
  try {
    const q = FS.conceptId ? `?concept_id=${FS.conceptId}` : "";
    const f = await FS.api(`/api/frames/${id}${q}`);
    box.innerHTML = `<img src="${FS.thumb(id, 320)}" style="width:100%" alt="frame">
      <div><b>${FS.esc(f.video)}</b> frame ${f.frame_index} · ${FS.fmtTime(f.time_s)}</div>
      <div class="muted">${f.labels.length} tool labels · concept: ${f.label === null ? "none" : f.label ? "yes" : "no"}${f.score !== null ? " · p " + f.score.toFixed(3) : ""}</div>
      <div class="row" style="margin-top:6px"><button class="pos" id="i-yes">✓</button><button class="neg" id="i-no">✗</button>
      <button id="i-open">open</button><a href="/search?frame=${id}${FS.conceptId ? "&concept=" + FS.conceptId : ""}">similar</a></div>`;
    box.querySelector("#i-yes").onclick = () => FS.labelFrames([id], 1).then(loadMap);
    box.querySelector("#i-no").onclick = () => FS.labelFrames([id], 0).then(loadMap);
    box.querySelector("#i-open").onclick = () => FS.showFrame(id);
  } catch (err) { FS.fail(err); }
}

async function loadGrid(append = false) {
  if (!append) E.offset = 0;
  try {
    const res = await FS.api("/api/query", { method: "POST", body: Object.assign(body(), {
      sort: document.getElementById("sort").value, descending: document.getElementById("desc").checked, offset: E.offset, limit: 60 }) });
    document.getElementById("match-count").textContent = `${res.n_match} frames match`;
    const items = append ? E.grid.items.concat(res.items) : res.items;
    E.offset += res.items.length;
    document.getElementById("more").disabled = E.offset >= res.n_match;
    await E.grid.setItems(items);
  } catch (err) { FS.fail(err); }
}

function setupMap() {
  const canvas = document.getElementById("map");
  let drag = null;
  canvas.addEventListener("mousedown", (e) => { drag = { x: e.offsetX, y: e.offsetY, moved: false, v: { ...E.view } }; });
  canvas.addEventListener("mousemove", (e) => {
    if (!drag) return;
    const dx = e.offsetX - drag.x, dy = e.offsetY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
    E.view.x0 = drag.v.x0 - dx / ((canvas.width - 24) * E.view.k);
    E.view.y0 = drag.v.y0 - dy / ((canvas.height - 24) * E.view.k);
    draw();
  });
  canvas.addEventListener("mouseup", (e) => {
    if (drag && !drag.moved) {
      const i = nearest(canvas, e.offsetX, e.offsetY);
      if (i >= 0) showInfo(E.points.id[i]);
    }
    drag = null;
  });
  canvas.addEventListener("wheel", (e) => {
    e.preventDefault();
    const v = E.view, factor = e.deltaY < 0 ? 1.25 : 0.8;
    const fx = v.x0 + (e.offsetX - 12) / ((canvas.width - 24) * v.k), fy = v.y0 + (e.offsetY - 12) / ((canvas.height - 24) * v.k);
    v.k *= factor;
    v.x0 = fx - (e.offsetX - 12) / ((canvas.width - 24) * v.k);
    v.y0 = fy - (e.offsetY - 12) / ((canvas.height - 24) * v.k);
    draw();
  }, { passive: false });
  document.getElementById("reset-view").onclick = () => { E.view = { x0: 0, y0: 0, k: 1 }; draw(); };
  document.getElementById("color").onchange = draw;
  window.addEventListener("resize", draw);
}

(async function main() {
  await FS.boot("/");
  E.grid = new FS.Grid(document.getElementById("grid"), { w: 240, empty: "no frame matches the filters" });
  FS.activeGrid = E.grid;
  FS.installKeys();
  setupMap();
  const runs = (FS.info && FS.info.runs) || [];
  document.getElementById("run").innerHTML = `<option value="">${FS.info && FS.info.latest_run ? "latest" : "none"}</option>` +
    runs.map((r) => `<option>${FS.esc(r)}</option>`).join("");
  E.fields = await FS.api("/api/fields");
  const stats = E.fields.filter((f) => f.kind === "stat").map((f) => f.key);
  document.getElementById("sort").innerHTML = ["time", "score", ...stats].map((s) => `<option>${s}</option>`).join("");
  document.getElementById("add-filter").onclick = () => filterRow();
  document.getElementById("apply").onclick = () => { E.filters = readFilters(); loadMap(); loadGrid(); };
  document.getElementById("run").onchange = loadMap;
  document.getElementById("sort").onchange = () => loadGrid();
  document.getElementById("desc").onchange = () => loadGrid();
  document.getElementById("more").onclick = () => { E.offset = E.grid.items.length; loadGrid(true); };
  document.addEventListener("fs:concept", () => { loadMap(); loadGrid(); });
  await Promise.all([loadMap(), loadGrid()]);
  FS.ready = true;
})();
