"""CVAT for images 1.1: the written XML has what CVAT's importer reads; CVAT's own exports read back."""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile

import pytest
from export_helpers import stored_labels

from framesift.errors import FramesiftError
from framesift.export.cvat import read_cvat
from framesift.export.exporter import export_run
from framesift.export.importer import import_labels
from framesift.pipeline.runs import get_run

CVAT_SOURCES = {"manual", "auto", "semi-auto", "file", "consensus"}


def check_cvat_images_xml(root: ET.Element) -> dict[str, list[dict[str, float | str]]]:
    """The checks CVAT's 'CVAT 1.1' importer implies; returns {image name: boxes}."""
    assert root.tag == "annotations"
    assert [child.tag for child in root][:2] == ["version", "meta"]
    assert root.findtext("version") == "1.1"
    assert {child.tag for child in root[2:]} <= {"image"}
    labels = [label.findtext("name") for label in root.findall("meta/task/labels/label")]
    assert labels and len(labels) == len(set(labels))
    assert all(label.findtext("type") == "rectangle" for label in root.findall("meta/task/labels/label"))
    images = root.findall("image")
    assert root.findtext("meta/task/size") == str(len(images))
    assert [int(i.get("id")) for i in images] == list(range(len(images)))
    names = [i.get("name") for i in images]
    assert names == sorted(names) and len(set(names)) == len(names)  # ids follow CVAT's lexicographic frame order
    out = {}
    for image in images:
        width, height = int(image.get("width")), int(image.get("height"))
        assert width > 0 and height > 0
        boxes = []
        for box in image:
            assert box.tag == "box"
            assert box.get("label") in labels
            assert box.get("occluded") in ("0", "1")
            assert box.get("source") in CVAT_SOURCES
            int(box.get("z_order", "0"))
            xtl, ytl, xbr, ybr = (float(box.get(k)) for k in ("xtl", "ytl", "xbr", "ybr"))
            assert 0 <= xtl < xbr <= width and 0 <= ytl < ybr <= height
            boxes.append({"label": box.get("label"), "xtl": xtl, "ytl": ytl, "xbr": xbr, "ybr": ybr})
        out[image.get("name")] = boxes
    return out


def test_written_xml_has_the_structure_cvat_imports(run_ws, rare_video):
    ws, expected = run_ws
    out = export_run(ws, get_run(ws.catalog, "r1"), "cvat").out_dir
    parsed = check_cvat_images_xml(ET.parse(out / "annotations.xml").getroot())
    assert len(parsed) == 7 and sum(len(b) for b in parsed.values()) == len(expected)
    x, y, w, h = rare_video[1].box
    assert parsed["rare-20-mp4.png"] == [{"label": "red square", "xtl": x, "ytl": y, "xbr": x + w, "ybr": y + h}]
    assert parsed["rare-19-mp4.png"] == []
    with zipfile.ZipFile(out / "cvat_task.zip") as zf:
        assert sorted(zf.namelist()) == sorted(["annotations.xml"] + [f"images/{n}" for n in parsed])
        assert zf.read("annotations.xml") == (out / "annotations.xml").read_bytes()


CVAT_EXPORT = """<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta><task><id>12</id><name>framesift r1</name><size>3</size><mode>annotation</mode>
    <labels><label><name>red square</name><type>rectangle</type><attributes/></label>
    <label><name>marker</name><type>any</type><attributes/></label></labels></task>
    <dumped>2024-05-01 10:00:00.000000+00:00</dumped></meta>
  <image id="0" name="rare-19-mp4.png" width="160" height="120">
  </image>
  <image id="1" name="rare-20-mp4.png" width="160" height="120">
    <box label="red square" source="manual" occluded="1" xtl="53.00" ytl="40.00" xbr="106.00" ybr="80.00" z_order="0">
      <attribute name="truncated">true</attribute>
    </box>
    <polygon label="marker" source="manual" occluded="0" points="10.50,20.00;30.00,25.25;12.00,40.00" z_order="0"/>
    <tag label="marker" source="manual"/>
    <cuboid label="marker" source="manual" occluded="0" xtl1="1" ytl1="1" xbl1="1" ybl1="2" xtr1="2" ytr1="1"
      xbr1="2" ybr1="2" xtl2="1" ytl2="1" xbl2="1" ybl2="2" xtr2="2" ytr2="1" xbr2="2" ybr2="2" z_order="0"/>
  </image>
  <image id="2" name="shots-40-mp4.png" width="320" height="240">
    <box label="marker" source="auto" occluded="0" xtl="20.00" ytl="30.00" xbr="60.00" ybr="90.00" z_order="0"/>
  </image>
</annotations>
"""


def test_reads_a_cvat_server_export_into_the_catalog(run_ws, tmp_path):
    ws, _ = run_ws
    path = tmp_path / "task_12_annotations.xml"
    path.write_text(CVAT_EXPORT)
    summary = import_labels(ws.catalog, path, fmt="cvat")
    assert (summary.matched, summary.boxes, summary.frame_labels, summary.empty_frames) == (3, 3, 1, 1)
    assert dict(summary.skipped_regions) == {"cuboid": 1}
    assert stored_labels(ws) == [
        ("rare", 19, "__empty__", None, None, None, None),
        ("rare", 20, "marker", None, None, None, None),
        ("rare", 20, "marker", 10.5, 20.0, 19.5, 20.0),  # polygon → its bounding box
        ("rare", 20, "red square", 53.0, 40.0, 53.0, 40.0),
        ("shots", 40, "marker", 10.0, 15.0, 20.0, 30.0),  # image was 320x240: scaled to the 160x120 frame
    ]
    attrs = ws.catalog.scalar("SELECT attributes FROM labels WHERE category = 'red square'")
    assert '"occluded": "1"' in attrs and '"truncated": "true"' in attrs


def test_reads_the_xml_inside_a_cvat_dataset_zip(tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("annotations.xml", CVAT_EXPORT)
        zf.writestr("images/rare-19-mp4.png", b"")
    images = read_cvat(archive)
    assert [i.name for i in images] == ["rare-19-mp4.png", "rare-20-mp4.png", "shots-40-mp4.png"]


def test_cvat_for_video_is_refused_with_the_fix(tmp_path):
    path = tmp_path / "video.xml"
    path.write_text('<annotations><version>1.1</version><track id="0" label="car"><box frame="0" outside="0" '
                    'occluded="0" keyframe="1" xtl="1" ytl="1" xbr="2" ybr="2"/></track></annotations>')
    with pytest.raises(FramesiftError, match=r"CVAT for images 1\.1"):
        read_cvat(path)
    bad = tmp_path / "bad.xml"
    bad.write_text('<annotations><image id="0" name="a.png"><box label="x" occluded="0" xtl="a" ytl="1" xbr="2" '
                   'ybr="2"/></image></annotations>')
    with pytest.raises(FramesiftError, match="xtl='a' is not a number"):
        read_cvat(bad)
