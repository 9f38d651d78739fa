// Search: text-to-frame (CLIP) and search by example frame; results as a labelable grid.
"use strict";

// Shared with the annotate page: wires a text box + example box to a grid.
FS.setupSearch = function (grid, { onResults } = {}) {
  const status = document.getElementById("status");
  const off = document.getElementById("text-off");
  const textState = FS.info ? FS.info.text_search : "off";
  if (textState !== "ready") {
    off.style.display = "block";
    off.textContent = (FS.info && FS.info.text_search_reason) || "text search is off";
    if (textState === "off") { document.getElementById("text").disabled = true; document.getElementById("text-go").disabled = true; }
    if (textState === "loading") {
      const poll = setInterval(async () => {
        try {
          FS.info = await FS.api("/api/info");
          if (FS.info.text_search === "loading") return;
          clearInterval(poll);
          if (FS.info.text_search === "ready") off.style.display = "none";
          else { off.textContent = FS.info.text_search_reason; document.getElementById("text").disabled = true; document.getElementById("text-go").disabled = true; }
        } catch (err) { clearInterval(poll); }
      }, 1500);
    }
  }
  const run = async (query, label) => {
    FS.lastSearch = [query, label];
    try {
      status.textContent = "searching…";
      const n = Number(document.getElementById("n").value) || 48;
      const c = FS.conceptId ? `&concept_id=${FS.conceptId}` : "";
      const res = await FS.api(`/api/search?${query}&n=${n}${c}`);
      status.textContent = `${res.items.length} frames nearest to ${label}`;
      await grid.setItems(res.items);
      FS.activeGrid = grid;
      grid.paint();
      if (onResults) onResults(res);
    } catch (err) { status.textContent = ""; FS.fail(err); }
  };
  document.getElementById("text-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = document.getElementById("text").value.trim();
    if (text) run(`text=${encodeURIComponent(text)}`, `“${text}”`);
  });
  document.getElementById("frame-go").addEventListener("click", () => {
    const id = Number(document.getElementById("frame").value);
    if (id) run(`frame_id=${id}`, `frame ${id}`);
  });
  FS.rerunSearch = () => (FS.lastSearch ? run(...FS.lastSearch) : Promise.resolve());
  return run;
};

(async function main() {
  if (!document.getElementById("results") || document.getElementById("feeds")) return;  // annotate page reuses FS.setupSearch
  await FS.boot("/search");
  const grid = new FS.Grid(document.getElementById("results"), { w: 240, empty: "search for a text or a frame" });
  FS.activeGrid = grid;
  FS.installKeys();
  const run = FS.setupSearch(grid);
  const frame = FS.params.get("frame");
  const text = FS.params.get("text");
  if (frame) { document.getElementById("frame").value = frame; run(`frame_id=${Number(frame)}`, `frame ${frame}`); }
  else if (text && FS.info.text_search === "ready") { document.getElementById("text").value = text; run(`text=${encodeURIComponent(text)}`, `“${text}”`); }
  else grid.setItems([]);
  document.addEventListener("fs:concept", () => FS.rerunSearch());
  FS.ready = true;
})();
