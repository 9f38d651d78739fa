import av
import numpy as np

from framesift.video import synthetic
from framesift.video.extract import read_frames
from framesift.video.naming import frame_file_name, parse_frame_stem


def _reference(path):
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [(f.pts, f.to_ndarray(format="rgb24")) for f in container.decode(stream)]


def test_seeking_reader_equals_sequential_decode_pixel_for_pixel(tmp_path):
    # long GOP-structured video (keyframe every 12 frames), picks far apart so seeking is used
    path = tmp_path / "long.mp4"
    frames = []
    background = synthetic.textured_background(72, 96, seed=3)
    for i in range(300):
        image = background.copy()
        synthetic.draw_box(image, (i * 3) % 80, 20, 12, 12, (255, (i * 7) % 255, 0))
        frames.append(image)
    synthetic.write_video(path, frames, fps=25)
    reference = _reference(path)
    targets = [5, 6, 7, 120, 121, 250, 299]
    got = dict(read_frames(str(path), [(i, reference[i][0]) for i in targets]))
    assert sorted(got) == targets
    for i in targets:
        assert np.array_equal(got[i], reference[i][1]), f"frame {i} differs"


def test_reader_without_pts_falls_back_to_sequential(rare_video):
    path, _ = rare_video
    reference = _reference(path)
    got = dict(read_frames(str(path), [(3, None), (40, None)]))
    assert np.array_equal(got[3], reference[3][1]) and np.array_equal(got[40], reference[40][1])


def test_lightly_frame_names_round_trip():
    assert frame_file_name("clip", "mp4", 7, 120) == "clip-007-mp4.png"
    assert frame_file_name("a/b", "avi", 12, 9) == "a/b-12-avi.png"
    assert frame_file_name("x", "mkv", 0, 1000) == "x-0000-mkv.png"
    assert parse_frame_stem("a/b-my-video-0042-mp4.png") == ("a/b-my-video", 42, "mp4")
    assert parse_frame_stem("nonsense") is None
