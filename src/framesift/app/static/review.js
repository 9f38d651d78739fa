// Review: every label of the concept, the current model's disagreements first.
"use strict";

let grid = null;

async function load() {
  if (!FS.conceptId) { document.getElementById("summary").textContent = "no concept yet"; grid.setItems([]); return; }
  try {
    const res = await FS.api(`/api/concepts/${FS.conceptId}/review`);
    const m = res.model;
    document.getElementById("summary").textContent = `${res.n_labels} labels · ${res.n_disagree} disagree with the model`;
    document.getElementById("model").textContent = m ? `model #${m.model_id}` + (m.ap !== null ? ` · held-out AP ${m.ap.toFixed(3)}` : "")
      : "no model yet: Build on the annotate page";
    res.items.forEach((it) => { if (it.review_score !== null) it.score = it.review_score; });
    await grid.setItems(res.items);
  } catch (err) { FS.fail(err); }
}

(async function main() {
  await FS.boot("/review");
  grid = new FS.Grid(document.getElementById("grid"), { w: 200, empty: "no labels yet" });
  FS.activeGrid = grid;
  FS.installKeys();
  document.getElementById("reload").onclick = load;
  document.addEventListener("fs:concept", load);
  await load();
  FS.ready = true;
})();
