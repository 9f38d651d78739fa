import os
import stat

import pytest

from framesift.util.atomic import atomic_path, write_json, write_text


def test_atomic_write_replaces_whole_file_with_normal_permissions(tmp_path):
    target = tmp_path / "a.json"
    write_json(target, {"x": 1})
    assert target.read_text().strip() == '{\n  "x": 1\n}'
    mode = stat.S_IMODE(os.stat(target).st_mode)
    assert mode & 0o044, "readable by group/others like a normally created file"
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "t.txt"
    write_text(target, "old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("partial")
        raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["t.txt"]
