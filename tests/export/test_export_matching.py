"""Imported images are matched to catalog frames by identity; nothing is dropped silently."""

from __future__ import annotations

import json

import pytest
from export_helpers import frame_id, stored_labels

from framesift.errors import FramesiftError
from framesift.export.files import ManifestIndex
from framesift.export.importer import detect_format, import_images, import_labels
from framesift.export.model import ImportedBox, ImportedImage


def coco(tmp_path, images, annotations=(), name="labels.json"):
    path = tmp_path / name
    path.write_text(json.dumps({"images": images, "annotations": list(annotations),
                                "categories": [{"id": 1, "name": "car"}]}))
    return path


def image(i, file_name, **extra):
    return {"id": i, "file_name": file_name, "width": 160, "height": 120, **extra}


def box(i, image_id, bbox):
    return {"id": i, "image_id": image_id, "category_id": 1, "bbox": bbox}


def test_unmatched_images_stop_the_import_and_nothing_is_written(ws, tmp_path):
    path = coco(
        tmp_path,
        [image(1, "rare-20-mp4.png"), image(2, "ghost-05-mp4.png"), image(3, "rare-75-mp4.png"), image(4, "IMG_0001.png")],
        [box(1, 1, [1, 2, 3, 4]), box(2, 2, [1, 2, 3, 4])],
    )
    with pytest.raises(FramesiftError) as err:
        import_labels(ws.catalog, path)
    message = str(err.value)
    assert "\n" not in message
    assert "3 of 4 images match no frame" in message
    assert "ghost-05-mp4.png, rare-75-mp4.png, IMG_0001.png" in message and "--allow-unmatched" in message
    assert stored_labels(ws) == []

    summary = import_labels(ws.catalog, path, allow_unmatched=True)
    assert summary.matched == 1 and [name for name, _ in summary.unmatched] == [
        "ghost-05-mp4.png", "rare-75-mp4.png", "IMG_0001.png"]
    reasons = dict(summary.unmatched)
    assert "not in the catalog" in reasons["ghost-05-mp4.png"]
    assert "frame 75 of 'rare' is not indexed" in reasons["rare-75-mp4.png"]
    assert stored_labels(ws) == [("rare", 20, "car", 1.0, 2.0, 3.0, 4.0)]


def test_identity_fields_win_over_the_name_and_pts_drift_is_caught(ws, tmp_path):
    pts = ws.catalog.scalar("SELECT pts FROM frames WHERE id = ?", (frame_id(ws, "shots", 33),))
    renamed = image(1, "renamed_by_the_tool.png", video="shots", video_ext="mp4", frame_index=33, pts=pts)
    import_labels(ws.catalog, coco(tmp_path, [renamed], [box(1, 1, [5, 6, 7, 8])]))
    assert stored_labels(ws) == [("shots", 33, "car", 5.0, 6.0, 7.0, 8.0)]

    drifted = image(1, "shots-33-mp4.png", video="shots", video_ext="mp4", frame_index=33, pts=pts + 512)
    with pytest.raises(FramesiftError, match="frame drift"):
        import_labels(ws.catalog, coco(tmp_path, [drifted], name="drift.json"))


def _fake_video(ws, name, n_frames=300):
    """Catalog rows of a video in a subfolder, as ingest would write them (matching needs no pixels)."""
    with ws.catalog.transaction() as conn:
        vid = conn.execute("INSERT INTO videos (path, name, ext, status, n_frames, width, height) "
                           "VALUES (?, ?, 'mp4', 'ingested', ?, 640, 480)", (f"/v/{name}.mp4", name, n_frames)).lastrowid
        conn.executemany("INSERT INTO frames (video_id, frame_index, pts, time_s) VALUES (?, ?, ?, ?)",
                         [(vid, i, i * 512, i / 25) for i in range(n_frames)])


@pytest.mark.parametrize(
    "name",
    [
        "cams/north-007-mp4.png",  # Lightly name of a video in a subfolder
        "/data/local-files/?d=home/me/ws/runs/r1/export/labelstudio/images/cams/north-007-mp4.png",
        "/home/me/ws/runs/r1/export/cvat/images/cams/north-007-mp4.png",
    ],
)
def test_names_with_folders_and_tool_prefixes_match(ws, name):
    from framesift.export.labelstudio import url_file_name

    _fake_video(ws, "cams/north")
    images = [ImportedImage(url_file_name(name), boxes=[ImportedBox("car", 1, 1, 2, 2)])]
    summary = import_images(ws.catalog, images, "t")
    assert summary.matched == 1
    assert stored_labels(ws) == [("cams/north", 7, "car", 1.0, 1.0, 2.0, 2.0)]


def test_label_studio_upload_prefix_is_stripped(ws):
    images = [ImportedImage("/data/upload/3/1a2b3c4d-rare-20-mp4.png", units="percent",
                            boxes=[ImportedBox("car", 25, 50, 12.5, 10)])]
    import_images(ws.catalog, images, "ls")
    assert stored_labels(ws) == [("rare", 20, "car", 40.0, 60.0, 20.0, 12.0)]


def test_manifest_maps_names_that_are_not_lightly_names(ws, tmp_path):
    manifest = ManifestIndex({"framesift_version": "x", "images": [
        {"file_name": "frame_a.png", "video": "rare", "video_ext": "mp4", "frame_index": 45}]})
    summary = import_images(ws.catalog, [ImportedImage("frame_a.png")], "m", manifest=manifest)
    assert summary.empty_frames == 1
    assert stored_labels(ws) == [("rare", 45, "__empty__", None, None, None, None)]
    (tmp_path / "manifest.json").write_text("{}")
    with pytest.raises(FramesiftError, match="not a framesift manifest"):
        ManifestIndex.near(tmp_path, tmp_path / "manifest.json")


def test_label_studio_annotation_choice(ws, tmp_path):
    def result(label, x):
        return {"type": "rectanglelabels", "from_name": "label", "to_name": "image", "original_width": 160,
                "original_height": 120, "value": {"x": x, "y": 0, "width": 10, "height": 10, "rotation": 0,
                                                  "rectanglelabels": [label]}}

    tasks = [
        {"id": 1, "data": {"image": "/data/local-files/?d=x/rare-20-mp4.png"}, "annotations": [
            {"id": 1, "was_cancelled": False, "updated_at": "2024-01-02", "result": [result("old", 0)]},
            {"id": 2, "was_cancelled": False, "updated_at": "2024-01-03", "result": [result("new", 50)]},
            {"id": 3, "was_cancelled": True, "updated_at": "2024-01-09", "result": [result("skipped", 0)]},
        ]},
        {"id": 2, "data": {"image": "/data/local-files/?d=x/rare-21-mp4.png"}, "annotations": [
            {"id": 4, "ground_truth": True, "updated_at": "2024-01-01", "result": [result("truth", 25)]},
            {"id": 5, "updated_at": "2024-01-05", "result": []},
        ]},
        {"id": 3, "data": {"image": "/data/local-files/?d=x/rare-45-mp4.png"}, "annotations": [],
         "predictions": [{"result": [result("pred", 0)]}]},
        {"id": 4, "data": {"image": "/data/local-files/?d=x/rare-19-mp4.png"}, "annotations": [
            {"id": 6, "result": [{"type": "polygonlabels", "value": {"points": [[1, 1]], "polygonlabels": ["car"]}},
                                 {"type": "choices", "value": {"choices": ["night"]}}]}]},
    ]
    path = tmp_path / "project-1-at-2024.json"
    path.write_text(json.dumps(tasks))
    assert detect_format(path) == "labelstudio"
    summary = import_labels(ws.catalog, path)
    assert (summary.matched, summary.unlabeled, summary.boxes, summary.frame_labels) == (4, 1, 2, 1)
    assert dict(summary.skipped_regions) == {"polygonlabels": 1}
    assert stored_labels(ws) == [
        ("rare", 19, "night", None, None, None, None),
        ("rare", 20, "new", 80.0, 0.0, 16.0, 12.0),
        ("rare", 21, "truth", 40.0, 0.0, 16.0, 12.0),
    ]


def test_label_studio_json_min_export(ws, tmp_path):
    path = tmp_path / "min.json"
    path.write_text(json.dumps([{"image": "/data/upload/1/0a0b0c0d-shots-12-mp4.png", "id": 7, "annotation_id": 3,
                                 "label": [{"x": 50, "y": 50, "width": 25, "height": 25, "rotation": 0,
                                            "rectanglelabels": ["car"], "original_width": 160,
                                            "original_height": 120}]}]))
    import_labels(ws.catalog, path, fmt="labelstudio")
    assert stored_labels(ws) == [("shots", 12, "car", 80.0, 60.0, 40.0, 30.0)]


def test_detect_format_and_errors(tmp_path):
    (tmp_path / "c.json").write_text(json.dumps({"images": [], "annotations": []}))
    (tmp_path / "x.xml").write_text("<annotations/>")
    assert detect_format(tmp_path / "c.json") == "coco"
    assert detect_format(tmp_path / "x.xml") == "cvat"
    assert detect_format(tmp_path) == "yolo"
    (tmp_path / "odd.json").write_text("{}")
    with pytest.raises(FramesiftError, match="pass --format"):
        detect_format(tmp_path / "odd.json")
