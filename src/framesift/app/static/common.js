// framesift web app: shared helpers (API, concept picker, labeled thumbnail grids, frame viewer).
// Plain browser JavaScript, no build step, no external libraries.
"use strict";

const FS = {
  params: new URLSearchParams(location.search),
  pending: 0,        // label writes sent and not yet acknowledged
  writes: Promise.resolve(),
  concepts: [],
  conceptId: null,
  info: null,
  activeGrid: null,
};
window.FS = FS;

FS.api = async function (path, { method = "GET", body, keepalive = false } = {}) {
  const opts = { method, headers: {}, keepalive, credentials: "same-origin" };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const response = await fetch(path, opts);
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = { error: text }; }
  if (!response.ok) {
    let message = (data && (data.error || data.detail)) || response.statusText;
    if (Array.isArray(message)) message = message.map((d) => d.msg || JSON.stringify(d)).join("; ");
    const err = new Error(String(message));
    err.status = response.status;
    throw err;
  }
  return data;
};

FS.toast = function (message, kind = "info", ms = 2600) {
  let el = document.getElementById("toast");
  if (!el) { el = document.createElement("div"); el.id = "toast"; document.body.appendChild(el); }
  el.textContent = message;
  el.className = kind === "error" ? "error" : "";
  el.style.display = "block";
  clearTimeout(FS._toastTimer);
  FS._toastTimer = setTimeout(() => { el.style.display = "none"; }, ms);
};

FS.fail = (err) => FS.toast(err.message || String(err), "error", 5000);

FS.esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));

FS.thumb = (id, w = 240) => `/media/thumb/${id}.jpg?w=${w}`;

FS.fmtTime = function (s) {
  const m = Math.floor(s / 60);
  return `${m}:${(s - 60 * m).toFixed(1).padStart(4, "0")}`;
};

// ---- page header and concept selection ---------------------------------------------------
FS.header = function (active) {
  const pages = [["/", "Explore"], ["/search", "Search"], ["/annotate", "Annotate"], ["/review", "Review"], ["/bulk", "Bulk label"]];
  const header = document.createElement("header");
  const links = pages.map(([href, name]) =>
    `<a href="${href}" data-page="${href}" class="${href === active ? "active" : ""}">${name}</a>`).join("");
  header.innerHTML = `<span class="brand">framesift</span><nav>${links}</nav>
    <div class="right"><label class="muted" for="concept">concept</label><select id="concept"></select>
    <button id="new-concept" title="Create a concept">+</button></div>`;
  document.body.prepend(header);
  header.querySelectorAll("nav a").forEach((a) => a.addEventListener("click", (e) => {
    if (FS.conceptId) { e.preventDefault(); location.href = `${a.dataset.page}?concept=${FS.conceptId}`; }
  }));
  header.querySelector("#new-concept").addEventListener("click", FS.newConcept);
  header.querySelector("#concept").addEventListener("change", (e) => FS.setConcept(Number(e.target.value) || null));
};

FS.loadConcepts = async function () {
  FS.concepts = await FS.api("/api/concepts");
  const wanted = Number(FS.params.get("concept")) || Number(localStorage.getItem("fs.concept")) || null;
  FS.conceptId = FS.concepts.some((c) => c.id === wanted) ? wanted : (FS.concepts[0] ? FS.concepts[0].id : null);
  FS.renderConceptSelect();
  return FS.conceptId;
};

FS.renderConceptSelect = function () {
  const select = document.getElementById("concept");
  if (!select) return;
  select.innerHTML = FS.concepts.length ? FS.concepts.map((c) =>
    `<option value="${c.id}" ${c.id === FS.conceptId ? "selected" : ""}>${FS.esc(c.name)}</option>`).join("")
    : `<option value="">(no concept yet)</option>`;
};

FS.setConcept = function (id) {
  FS.conceptId = id;
  if (id) localStorage.setItem("fs.concept", String(id));
  const url = new URL(location.href);
  if (id) url.searchParams.set("concept", id); else url.searchParams.delete("concept");
  history.replaceState(null, "", url);
  FS.renderConceptSelect();
  document.dispatchEvent(new CustomEvent("fs:concept", { detail: id }));
};

FS.newConcept = async function () {
  const name = prompt("Name of the concept to label (e.g. 'establishing shot'):");
  if (!name || !name.trim()) return;
  try {
    const concept = await FS.api("/api/concepts", { method: "POST", body: { name: name.trim() } });
    FS.concepts = await FS.api("/api/concepts");
    FS.setConcept(concept.id);
  } catch (err) { FS.fail(err); }
};

FS.requireConcept = function () {
  if (!FS.conceptId) { FS.toast("Create or choose a concept first (+ at the top right)", "error"); return false; }
  return true;
};

// ---- label writes: sent at once, in order, acknowledged before the count drops ----------
FS.putLabels = function (body, onError) {
  const conceptId = FS.conceptId;
  FS.pending += 1;
  const send = () => FS.api(`/api/concepts/${conceptId}/labels${body.video_id !== undefined ? "/range" : ""}`,
    { method: "PUT", body, keepalive: true });
  const done = FS.writes.then(send).catch((err) => { if (onError) onError(err); FS.fail(err); })
    .finally(() => { FS.pending -= 1; document.dispatchEvent(new CustomEvent("fs:saved")); });
  FS.writes = done;
  return done;
};

FS.setTileLabel = function (id, value) {
  document.querySelectorAll(`.tile[data-id="${id}"]`).forEach((tile) => {
    tile.classList.toggle("pos", value === 1);
    tile.classList.toggle("neg", value === 0);
    tile.dataset.label = value === null || value === undefined ? "" : String(value);
  });
};

FS.labelFrames = function (ids, value, source = "app") {
  if (!FS.requireConcept() || !ids.length) return Promise.resolve();
  const before = ids.map((id) => {
    const tile = document.querySelector(`.tile[data-id="${id}"]`);
    return tile && tile.dataset.label !== "" ? Number(tile.dataset.label) : null;
  });
  ids.forEach((id) => FS.setTileLabel(id, value));
  return FS.putLabels({ frame_ids: ids, value, source },
    () => ids.forEach((id, i) => FS.setTileLabel(id, before[i])));
};

window.addEventListener("beforeunload", (e) => {
  if (FS.pending > 0) { e.preventDefault(); e.returnValue = "Labels are still being saved"; }
});

// ---- thumbnails: decode a page in one pass per video, then let the browser load them ----
FS.warm = async function (ids, w) {
  for (let i = 0; i < ids.length; i += 500) {
    try { await FS.api("/api/thumbs/warm", { method: "POST", body: { frame_ids: ids.slice(i, i + 500), w } }); }
    catch (err) { /* single images still load (or show their own error) */ }
  }
};

// ---- a grid of labelable frame tiles with keyboard control ------------------------------
class Grid {
  constructor(el, opts = {}) {
    this.el = el;
    this.opts = Object.assign({ w: 240, source: "app", prelabels: false, empty: "nothing to show" }, opts);
    this.items = [];
    this.cursor = -1;
    this.anchor = -1;
    this.selected = new Set();
    el.classList.add("grid");
    el.addEventListener("click", (e) => this.onClick(e));
    el.addEventListener("mouseenter", () => { FS.activeGrid = this; });
  }

  async setItems(items) {
    // A refresh of the same frames keeps the cursor and selection where they were.
    const key = (it) => (it.box_id !== undefined ? "b" + it.box_id : it.id);
    const atCursor = this.cursor >= 0 && this.items[this.cursor] ? key(this.items[this.cursor]) : null;
    const chosen = new Set([...this.selected].map((i) => this.items[i] && key(this.items[i])));
    const index = new Map(items.map((it, i) => [key(it), i]));
    this.items = items;
    this.selected = new Set(items.map((it, i) => (chosen.has(key(it)) ? i : -1)).filter((i) => i >= 0));
    this.cursor = index.has(atCursor) ? index.get(atCursor) : (items.length ? 0 : -1);
    this.anchor = this.cursor;
    if (!items.length) { this.el.innerHTML = `<div class="muted">${FS.esc(this.opts.empty)}</div>`; return; }
    this.el.innerHTML = items.map((it, i) => this.tileHTML(it, i)).join("");
    this.paint();
    const ids = items.filter((it) => it.box_id === undefined).map((it) => it.id);
    await FS.warm(ids, this.opts.w);
    this.el.querySelectorAll("img[data-src]").forEach((img) => { img.src = img.dataset.src; });
  }

  tileHTML(it, i) {
    const label = it.label === null || it.label === undefined ? "" : String(it.label);
    const cls = ["tile", label === "1" ? "pos" : "", label === "0" ? "neg" : "", it.disagrees ? "disagree" : ""].join(" ");
    const src = it.box_id !== undefined ? `/media/crop/${it.box_id}.jpg?w=${this.opts.w}` : FS.thumb(it.id, this.opts.w);
    const score = it.score !== null && it.score !== undefined ? `p ${it.score.toFixed(2)}`
      : it.similarity !== undefined ? `sim ${it.similarity.toFixed(3)}`
      : it.det_score !== undefined && it.det_score !== null ? `det ${it.det_score.toFixed(2)}` : "";
    const pre = this.opts.prelabels && it.score !== null && it.score !== undefined && label === ""
      ? `<span class="pre ${it.score >= 0.5 ? "p" : "n"}">${it.score >= 0.5 ? "pre: yes" : "pre: no"}</span>` : "";
    const where = it.box_id !== undefined ? `box ${it.box_id} · f${it.frame_index}` : `${FS.esc(it.video)} · ${FS.fmtTime(it.time_s)}`;
    const key = it.box_id !== undefined ? `data-box="${it.box_id}"` : "";
    return `<div class="${cls}" data-i="${i}" data-id="${it.box_id !== undefined ? "b" + it.box_id : it.id}" ${key} data-label="${label}"
        title="frame ${it.id !== undefined ? it.id : it.frame_id} · ${FS.esc(it.video || "")} frame ${it.frame_index}">
      <img data-src="${src}" loading="lazy" alt="frame ${it.frame_index}">${pre}
      <div class="btns"><button class="pos" data-act="1" title="yes (1)">✓</button><button class="neg" data-act="0" title="no (0)">✗</button>
      <button data-act="open" title="open (o)">⤢</button></div>
      <div class="cap"><span>${where}</span><span class="score">${score}</span></div></div>`;
  }

  tiles() { return this.el.querySelectorAll(".tile"); }

  paint() {
    this.tiles().forEach((t, i) => {
      t.classList.toggle("cursor", i === this.cursor && FS.activeGrid === this);
      t.classList.toggle("selected", this.selected.has(i));
    });
  }

  onClick(e) {
    const tile = e.target.closest(".tile");
    if (!tile) return;
    FS.activeGrid = this;
    const i = Number(tile.dataset.i);
    const act = e.target.closest("button") ? e.target.closest("button").dataset.act : null;
    if (act === "1" || act === "0") { this.cursor = i; this.label(Number(act), [i], false); return; }
    if (act === "open") { FS.showFrame(this.items[i].id !== undefined ? this.items[i].id : this.items[i].frame_id); return; }
    if (e.shiftKey && this.anchor >= 0) {
      const [a, b] = [Math.min(this.anchor, i), Math.max(this.anchor, i)];
      for (let k = a; k <= b; k++) this.selected.add(k);
    } else if (e.ctrlKey || e.metaKey || this.opts.clickSelects) {
      if (this.selected.has(i)) this.selected.delete(i); else this.selected.add(i);
      this.anchor = i;
    } else {
      this.anchor = i;
    }
    this.cursor = i;
    this.paint();
  }

  targets() {
    if (this.selected.size) return [...this.selected].sort((a, b) => a - b);
    return this.cursor >= 0 ? [this.cursor] : [];
  }

  // Label the selection (or the cursor tile); then move on to the next tile.
  label(value, indices = null, advance = true) {
    const idx = indices || this.targets();
    if (!idx.length) return;
    const items = idx.map((i) => this.items[i]);
    idx.forEach((i) => { this.items[i].label = value; });
    if (items[0].box_id !== undefined) {
      if (!FS.requireConcept()) return;
      const ids = items.map((it) => it.box_id);
      ids.forEach((b) => FS.setTileLabel("b" + b, value));
      FS.putLabels({ box_ids: ids, value, source: this.opts.source });
    } else {
      FS.labelFrames(items.map((it) => it.id), value, this.opts.source);
    }
    this.selected.clear();
    if (advance) this.cursor = Math.min(this.items.length - 1, Math.max(...idx) + 1);
    this.paint();
    this.scrollToCursor();
    if (this.opts.onLabel) this.opts.onLabel(idx, value);
  }

  acceptPrelabels() {
    const idx = this.targets().filter((i) => this.items[i].score !== null && this.items[i].score !== undefined);
    const yes = idx.filter((i) => this.items[i].score >= 0.5);
    const no = idx.filter((i) => this.items[i].score < 0.5);
    if (yes.length) this.label(1, yes, false);
    if (no.length) this.label(0, no, false);
    if (idx.length) this.cursor = Math.min(this.items.length - 1, Math.max(...idx) + 1);
    this.paint();
  }

  columns() {
    const tiles = this.tiles();
    if (tiles.length < 2) return 1;
    const top = tiles[0].offsetTop;
    let n = 0;
    while (n < tiles.length && tiles[n].offsetTop === top) n++;
    return Math.max(1, n);
  }

  move(delta, extend) {
    if (!this.items.length) return;
    const next = Math.max(0, Math.min(this.items.length - 1, this.cursor + delta));
    if (extend) {
      if (this.anchor < 0) this.anchor = this.cursor;
      this.selected.clear();
      const [a, b] = [Math.min(this.anchor, next), Math.max(this.anchor, next)];
      for (let k = a; k <= b; k++) this.selected.add(k);
    } else {
      this.anchor = next;
    }
    this.cursor = next;
    this.paint();
    this.scrollToCursor();
  }

  scrollToCursor() {
    const tile = this.tiles()[this.cursor];
    if (tile && tile.scrollIntoView) tile.scrollIntoView({ block: "nearest" });
  }

  // Returns true when the key was handled.
  key(e) {
    const k = e.key;
    if (k === "ArrowRight" || k === "l") this.move(1, e.shiftKey);
    else if (k === "ArrowLeft" || k === "h") this.move(-1, e.shiftKey);
    else if (k === "ArrowDown" || k === "j") this.move(this.columns(), e.shiftKey);
    else if (k === "ArrowUp" || k === "k") this.move(-this.columns(), e.shiftKey);
    else if (k === "1" || k === "y" || k === "p") this.label(1);
    else if (k === "0" || k === "n") this.label(0);
    else if (k === "x" || k === "u" || k === "Backspace" || k === "Delete") this.label(null);
    else if (k === " ") {
      if (this.selected.has(this.cursor)) this.selected.delete(this.cursor); else this.selected.add(this.cursor);
      this.anchor = this.cursor; this.paint();
    } else if (k === "a" && !e.ctrlKey) { this.items.forEach((_, i) => this.selected.add(i)); this.paint(); }
    else if (k === "Escape") { this.selected.clear(); this.paint(); }
    else if (k === "Enter" && this.opts.prelabels) this.acceptPrelabels();
    else if (k === "o" && this.cursor >= 0) FS.showFrame(this.items[this.cursor].id !== undefined ? this.items[this.cursor].id : this.items[this.cursor].frame_id);
    else return false;
    return true;
  }
}
FS.Grid = Grid;

FS.installKeys = function (extra) {
  document.addEventListener("keydown", (e) => {
    const tag = (e.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || e.altKey || (e.ctrlKey && e.key !== "a") || e.metaKey) return;
    if (document.querySelector(".modal.open")) {
      if (e.key === "Escape") FS.closeFrame();
      else if (FS._modalKey && FS._modalKey(e)) e.preventDefault();
      return;
    }
    if (extra && extra(e)) { e.preventDefault(); return; }
    if (FS.activeGrid && FS.activeGrid.key(e)) e.preventDefault();
  });
};

// ---- the frame viewer ---------------------------------------------------------------------
FS.showFrame = async function (id) {
  let modal = document.getElementById("frame-modal");
  if (!modal) {
    modal = document.createElement("div");
    modal.id = "frame-modal";
    modal.className = "modal";
    modal.addEventListener("click", (e) => { if (e.target === modal) FS.closeFrame(); });
    document.body.appendChild(modal);
  }
  try {
    const q = FS.conceptId ? `?concept_id=${FS.conceptId}` : "";
    const f = await FS.api(`/api/frames/${id}${q}`);
    const stats = Object.entries(f.stats).map(([k, v]) => `<tr><td>${k}</td><td class="stat">${v}</td></tr>`).join("");
    const meta = Object.entries(f.metadata).map(([k, v]) => `<tr><td>${FS.esc(k)}</td><td>${FS.esc(v)}</td></tr>`).join("");
    const labels = f.labels.map((l) => `${FS.esc(l.category)}${l.w ? " (box)" : ""} <span class="muted">${FS.esc(l.source)}</span>`).join("<br>") || "none";
    const ann = f.annotations.map((a) => `${FS.esc(a.concept)}: <b>${a.value ? "yes" : "no"}</b>${a.box_id ? " (crop)" : ""}`).join("<br>") || "none";
    modal.innerHTML = `<div class="box"><img src="/media/frame/${f.id}.jpg" alt="frame ${f.frame_index}">
      <div style="min-width:240px"><h2>${FS.esc(f.video)} · frame ${f.frame_index}</h2>
      <div class="muted">id ${f.id} · ${FS.fmtTime(f.time_s)} · ${f.time_s.toFixed(3)} s</div>
      <div class="row" style="margin:8px 0"><button class="pos" id="m-yes">✓ yes (1)</button><button class="neg" id="m-no">✗ no (0)</button>
      <button id="m-clear">clear (x)</button></div>
      <div>concept label: <b id="m-label">${f.label === null ? "none" : f.label ? "yes" : "no"}</b>${f.score !== null ? ` · model p ${f.score.toFixed(3)}` : ""}</div>
      <div class="row" style="margin:8px 0"><a href="/search?frame=${f.id}${FS.conceptId ? "&concept=" + FS.conceptId : ""}">similar frames</a>
      <a href="/bulk?video=${f.video_id}&at=${f.frame_index}${FS.conceptId ? "&concept=" + FS.conceptId : ""}">open in timeline</a></div>
      <h2>labels from labeling tools</h2><div>${labels}</div><h2>concept labels</h2><div>${ann}</div>
      ${f.selected_in.length ? `<h2>selected in</h2><div>${f.selected_in.map(FS.esc).join(", ")}</div>` : ""}
      <h2>quality</h2><table>${stats}</table>${meta ? `<h2>metadata</h2><table>${meta}</table>` : ""}
      <div class="help" style="margin-top:8px">Esc closes</div></div></div>`;
    const set = (v) => { FS.labelFrames([f.id], v); modal.querySelector("#m-label").textContent = v === null ? "none" : v ? "yes" : "no"; };
    modal.querySelector("#m-yes").onclick = () => set(1);
    modal.querySelector("#m-no").onclick = () => set(0);
    modal.querySelector("#m-clear").onclick = () => set(null);
    FS._modalKey = (e) => {
      if (e.key === "1" || e.key === "y") set(1); else if (e.key === "0" || e.key === "n") set(0);
      else if (e.key === "x") set(null); else return false;
      return true;
    };
    modal.classList.add("open");
  } catch (err) { FS.fail(err); }
};

FS.closeFrame = function () {
  const modal = document.getElementById("frame-modal");
  if (modal) modal.classList.remove("open");
};

FS.boot = async function (active) {
  FS.header(active);
  try {
    FS.info = await FS.api("/api/info");
    await FS.loadConcepts();
  } catch (err) { FS.fail(err); }
};
