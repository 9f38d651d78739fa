// Video-Annotator loop: seeds from search -> Build -> four feeds -> label -> rebuild; AP estimate; export.
"use strict";

const A = { grids: {}, seed: 0, results: null };
const FEEDS = ["positive", "negative", "borderline", "random"];

function describeModel(m) {
  if (!m) return "no model yet";
  const ap = m.ap === null ? `AP n/a (${m.ap_reason || "too few labels"})`
    : `held-out AP ${m.ap.toFixed(3)} ± ${m.ap_std.toFixed(3)} over ${m.ap_folds} folds (random ranking: ${m.prevalence.toFixed(3)})`;
  return `model #${m.model_id} on ${m.embedder} (${m.n_pos}+ / ${m.n_neg}−) · ${ap}`;
}

async function refreshStatus() {
  const none = !FS.conceptId;
  document.getElementById("no-concept").style.display = none ? "block" : "none";
  document.getElementById("build").disabled = none;
  document.getElementById("export").disabled = none;
  if (none) return null;
  const c = await FS.api(`/api/concepts/${FS.conceptId}`);
  document.getElementById("concept-name").textContent = c.name;
  document.getElementById("counts").textContent = `${c.n_pos} yes · ${c.n_neg} no`;
  document.getElementById("model-info").textContent = describeModel(c.model);
  document.getElementById("model-info").dataset.modelId = c.model ? c.model.model_id : "";
  document.getElementById("review-link").href = `/review?concept=${FS.conceptId}`;
  return c;
}

async function loadFeeds() {
  const info = document.getElementById("feeds-info");
  if (!FS.conceptId) { FEEDS.forEach((f) => A.grids[f].setItems([])); return; }
  try {
    const res = await FS.api(`/api/concepts/${FS.conceptId}/feeds?n=12&seed=${A.seed}`);
    info.textContent = `${res.n_unlabeled} unlabeled frames scored by model #${res.model.model_id}`;
    await Promise.all(FEEDS.map((f) => A.grids[f].setItems(res[f])));
  } catch (err) {
    info.textContent = err.status === 404 ? "— label some yes and some no examples, then Build" : "";
    FEEDS.forEach((f) => A.grids[f].setItems([]));
    if (err.status !== 404) FS.fail(err);
  }
}

async function build() {
  if (!FS.requireConcept()) return;
  const button = document.getElementById("build");
  button.disabled = true;
  button.textContent = "Building…";
  try {
    await FS.writes;  // every label sent so far is in the catalog before training
    const res = await FS.api(`/api/concepts/${FS.conceptId}/build`, { method: "POST", body: {} });
    FS.toast(`built: ${res.n_predicted_positive} of ${res.n_scored} frames predicted yes`);
    A.seed = 0;
    await refreshStatus();
    await loadFeeds();
  } catch (err) { FS.fail(err); }
  finally { button.disabled = false; button.textContent = "Build"; }
}

async function exportModel() {
  try {
    const res = await FS.api(`/api/concepts/${FS.conceptId}/export`, { method: "POST", body: {} });
    document.getElementById("downloads").innerHTML = Object.entries(res.download)
      .map(([name, url]) => `<a href="${url}" download>${name}</a>`).join(" · ");
    FS.toast(`exported to ${res.folder}`);
  } catch (err) { FS.fail(err); }
}

(async function main() {
  await FS.boot("/annotate");
  FEEDS.forEach((f) => { A.grids[f] = new FS.Grid(document.getElementById(`feed-${f}`), { w: 160, empty: "—" }); });
  const results = new FS.Grid(document.getElementById("results"), { w: 160, empty: "search to find seed examples" });
  FS.activeGrid = results;
  FS.installKeys((e) => {
    if (e.key === "b") { build(); return true; }
    return false;
  });
  results.setItems([]);
  FS.setupSearch(results);
  document.getElementById("build").onclick = build;
  document.getElementById("export").onclick = exportModel;
  document.getElementById("reshuffle").onclick = () => { A.seed += 1; loadFeeds(); };
  document.addEventListener("fs:concept", async () => { FS.rerunSearch(); await refreshStatus(); await loadFeeds(); });
  document.addEventListener("fs:saved", () => { if (FS.pending === 0) refreshStatus().catch(() => {}); });
  try { await refreshStatus(); } catch (err) { FS.fail(err); }
  await loadFeeds();
  FS.ready = true;
})();
