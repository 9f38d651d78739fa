import base64
import io
import json
import re

import numpy as np
import pypdfium2
import pytest
from PIL import Image
from report_fixtures import N_PICKS, make_run

from framesift.pipeline.frames import load_frame_table
from framesift.pipeline.runs import create_run, finish_run, save_selection
from framesift.report import build_report
from framesift.report.coverage import coverage_section, timeline_section
from framesift.report.data import load_report_data
from framesift.report.sections import example_section
from framesift.store.embeddings import EmbeddingStore

SECTIONS = ["summary", "maps", "timelines", "distributions", "coverage", "examples", "config"]


@pytest.fixture(scope="module")
def built(synthetic_run):
    files = build_report(synthetic_run.workspace, synthetic_run.run_name)
    return synthetic_run, files, files[0].read_text(encoding="utf-8")


def _summary_value(html: str, key: str) -> str:
    match = re.search(rf'<tr data-key="{key}"><th>[^<]*</th><td class="n">([^<]*)</td>', html)
    assert match, key
    return match.group(1).replace(",", "")


def test_report_files_are_written_into_the_run_folder(built):
    run, files, html = built
    run_dir = run.workspace.root / "runs" / run.run_name
    assert files == [run_dir / "report.html", run_dir / "report.pdf"]
    for section in SECTIONS:
        assert f'<section id="{section}">' in html


def test_summary_counts_match_the_catalog(built):
    run, _, html = built
    cat = run.workspace.catalog
    expected = {
        "videos": cat.scalar("SELECT COUNT(*) FROM videos WHERE status = 'ingested'"),
        "videos_skipped": cat.scalar("SELECT COUNT(*) FROM videos WHERE status = 'failed'"),
        "frames_indexed": cat.scalar("SELECT COUNT(*) FROM frames"),
        "frames_embedded": cat.scalar("SELECT SUM(n_rows) FROM embedding_sets WHERE model = 'pixels'"),
        "frames_selected": cat.scalar("SELECT COUNT(*) FROM selections WHERE run_id = ?", (run.run_id,)),
        "corrupt_skipped": cat.scalar("SELECT COUNT(*) FROM frames WHERE uniform_row_ratio > 0.9"),
    }
    assert expected["videos"] == 3 and expected["videos_skipped"] == 1 and expected["corrupt_skipped"] == 3
    assert expected["frames_indexed"] == 60 + 60 + 40 and expected["frames_selected"] == N_PICKS
    for key, value in expected.items():
        assert _summary_value(html, key) == str(value), key
    assert "broken.mp4" in html and "zero-byte" in html  # skipped video with its reason
    for stage in ("ingest", "embed", "select", "extract"):
        assert f'<tr data-stage="{stage}">' in html


def test_config_and_version_are_the_exact_ones(built):
    run, _, html = built
    from framesift import __version__

    stored = json.loads(run.workspace.catalog.scalar("SELECT config FROM runs WHERE id = ?", (run.run_id,)))
    block = re.search(r'<pre id="config-json">(.*?)</pre>', html, re.S).group(1)
    import html as html_lib

    assert json.loads(html_lib.unescape(block)) == stored
    assert f'<td data-key="version">{__version__}</td>' in html


def test_html_is_self_contained(built):
    _, files, html = built
    assert not re.search(r"<script[^>]+src\s*=\s*[\"']?(https?:)?//", html, re.I)
    assert not re.search(r"<link[^>]+href\s*=\s*[\"']?(https?:)?//", html, re.I)
    assert not re.search(r"<img[^>]+src\s*=\s*[\"']?(https?:)?//", html, re.I)
    assert "Plotly.newPlot" in html and len(html) > 1_000_000  # plotly.js itself is inlined
    # every example image is an inline JPEG that decodes
    uris = re.findall(r'<img src="data:image/jpeg;base64,([^"]+)"', html)
    assert len(uris) == N_PICKS  # 12 picks in two groups of 6: every pick is shown
    for uri in uris:
        assert Image.open(io.BytesIO(base64.b64decode(uri))).size[0] > 0
    assert files[0].stat().st_size < 8_000_000


def test_hover_thumbnails_cover_every_map_point(built):
    run, _, html = built
    thumbs = json.loads(re.search(r'<script type="application/json" id="fs-thumbs">(.*?)</script>', html, re.S).group(1))
    n_frames = run.workspace.catalog.scalar("SELECT COUNT(*) FROM frames")
    assert len(thumbs) == n_frames  # 160 points <= 1,500: all have a thumbnail
    image = Image.open(io.BytesIO(base64.b64decode(thumbs["0"].split(",", 1)[1])))
    assert image.format == "JPEG" and image.size == (96, 72)
    assert html.count('class="fs-map"') == 2  # PCA + t-SNE (auto leaves UMAP out below 1,000 points)
    cached = list((run.workspace.root / "cache" / "report-frames").rglob("*.jpg"))
    assert len(cached) >= n_frames


def test_pdf_is_a_valid_document_whose_first_page_renders(built, tmp_path):
    _, files, _ = built
    pdf = pypdfium2.PdfDocument(str(files[1]))
    try:
        assert len(pdf) >= 7
        page = pdf[0]
        assert "Dataset summary" in page.get_textpage().get_text_range()
        assert page.get_size() == pytest.approx((841.7, 595.4), abs=0.5)  # A4 landscape, points
        page.render(scale=1).to_pil().save(tmp_path / "page1.png")
    finally:
        pdf.close()
    image = Image.open(tmp_path / "page1.png")
    assert image.format == "PNG" and abs(image.size[0] - 842) <= 1 and abs(image.size[1] - 595) <= 1
    pixels = np.asarray(image.convert("L"))
    assert (pixels < 128).mean() > 0.002  # text was drawn, not a blank page


def test_coverage_numbers_equal_brute_force(synthetic_run):
    data = load_report_data(synthetic_run.workspace, synthetic_run.run_name)
    section = coverage_section(data)
    table = load_frame_table(synthetic_run.workspace.catalog)
    matrix = EmbeddingStore(synthetic_run.workspace, "pixels").load(table.frame_id)
    ok = table.stats["uniform_row_ratio"] <= 0.9
    ids = [r[0] for r in synthetic_run.workspace.catalog.query(
        "SELECT frame_id FROM selections WHERE run_id = ?", (synthetic_run.run_id,))]
    chosen = matrix.vectors[np.isin(matrix.frame_ids, ids)]
    brute = np.linalg.norm(matrix.vectors[ok][:, None] - chosen[None], axis=2).min(axis=1)
    summary = section.methods["this selection"]
    assert summary.n == ok.sum() == 157
    assert summary.max == pytest.approx(brute.max(), abs=1e-6)
    assert summary.mean == pytest.approx(brute.mean(), abs=1e-6)
    assert set(section.methods) == {"this selection", "random", "uniform fps"}
    assert all(s.n == 157 for s in section.methods.values())
    for counts in section.counts.values():
        assert counts.sum() == 157


def test_before_after_uses_the_frames_of_earlier_runs(synthetic_run):
    ws = synthetic_run.workspace
    table = load_frame_table(ws.catalog)
    config = json.loads(ws.catalog.scalar("SELECT config FROM runs WHERE id = ?", (synthetic_run.run_id,)))
    taken = {r[0] for r in ws.catalog.query("SELECT frame_id FROM selections WHERE run_id = ?", (synthetic_run.run_id,))}
    new = [int(f) for f in table.frame_id if int(f) not in taken][:4]
    run_id, name = create_run(ws.catalog, "second", config, "pixels")
    save_selection(ws.catalog, run_id, new, [{"DIVERSITY": 0.5}] * 4)
    finish_run(ws.catalog, run_id, {"n_selected": 4, "preselected": len(taken)})
    section = coverage_section(load_report_data(ws, name))
    before, after = section.methods["before (earlier runs)"], section.methods["this selection"]
    assert section.n_picks == 4 and after.max <= before.max and after.mean < before.mean
    assert any("12 frames picked by earlier runs" in note for note in section.notes)


def test_timelines_mark_picks_and_shot_boundaries(synthetic_run):
    data = load_report_data(synthetic_run.workspace, synthetic_run.run_name)
    section = timeline_section(data, coverage_section(data))
    by_name = {v.name: v for v in section.videos}
    assert set(by_name) == {"rare", "shots", "lobby"}
    cuts = [c / synthetic_run.shots_truth.fps for c in synthetic_run.shots_truth.cuts]
    assert by_name["shots"].shots == pytest.approx(cuts)  # 2.0 s and 3.5 s
    assert sum(len(v.picks) for v in section.videos) == N_PICKS
    rare_curves = {c.label for c in by_name["rare"].curves}
    assert "objects/uncertainty" in rare_curves  # the score curve under the timeline
    uncertainty = next(c for c in by_name["rare"].curves if c.label == "objects/uncertainty")
    high = uncertainty.x[uncertainty.y > 0.5] * synthetic_run.rare_truth.fps
    assert np.round(high).astype(int).tolist() == synthetic_run.rare_truth.rare_frames


def test_class_distribution_and_examples_follow_the_predictions(built):
    run, _, html = built
    cat = run.workspace.catalog
    assert 'data-title="objects (object-detection)"' in html
    data = load_report_data(run.workspace, run.run_name)
    section = example_section(data)
    assert sum(section.group_sizes.values()) == N_PICKS
    assert set(section.group_sizes) <= {"DIVERSITY", "BALANCE video_name"}
    for examples in section.groups.values():
        for example in examples:
            fid = int(data.table.frame_id[example.position])
            boxes = cat.scalar("SELECT COUNT(*) FROM predictions WHERE frame_id = ? AND x IS NOT NULL", (fid,))
            assert example.n_boxes == boxes


def test_video_distribution_table_counts(built):
    run, _, html = built
    cat = run.workspace.catalog
    for name in ("rare", "shots", "lobby"):
        row = re.search(rf'<tr data-category="{name}"><td>{name}</td><td class="n">(\d+)</td><td class="n">(\d+)</td>'
                        r'<td class="n">([\d.]+)%</td>', html)
        n_in = cat.scalar("SELECT COUNT(*) FROM frames f JOIN videos v ON v.id = f.video_id WHERE v.name = ?", (name,))
        n_sel = cat.scalar("SELECT COUNT(*) FROM selections s JOIN frames f ON f.id = s.frame_id "
                           "JOIN videos v ON v.id = f.video_id WHERE v.name = ? AND s.run_id = ?", (name, run.run_id))
        assert (int(row.group(1)), int(row.group(2)), float(row.group(3))) == (n_in, n_sel, 33.3)  # UNIFORM target


def test_report_without_predictions_says_so(tmp_path, rare_video, shots_video, monkeypatch):
    run = make_run(tmp_path, rare_video, shots_video, predictions=False)
    (tmp_path / "videos" / "lobby.mp4").unlink()  # a video moved away after the run: no pixels for it
    files = build_report(run.workspace, run.run_name, maps=["pca"], pdf=False)
    html = files[0].read_text(encoding="utf-8")
    assert "no predictions in the catalog" in html and "frames are shown without boxes" in html
    assert "no per-frame scores" in html
    assert "lobby: frames could not be decoded for the report" in html
    assert html.count('class="fs-map"') == 1
    lobby_picks = run.workspace.catalog.scalar(
        "SELECT COUNT(*) FROM selections s JOIN frames f ON f.id = s.frame_id JOIN videos v ON v.id = f.video_id "
        "WHERE v.name = 'lobby' AND s.run_id = ?", (run.run_id,))
    assert html.count('<img src="data:image/jpeg') == N_PICKS - lobby_picks
    # a rebuild reads every decoded image from the cache: only the missing video is tried again
    import framesift.report.images as images

    tried = []
    real = images.read_frames

    def spy(path, targets, **kwargs):
        tried.append(path)
        return real(path, targets, **kwargs)

    monkeypatch.setattr(images, "read_frames", spy)
    assert build_report(run.workspace, run.run_name, maps=["pca"], pdf=False) == [files[0]]
    assert tried and all(path.endswith("lobby.mp4") for path in tried)
