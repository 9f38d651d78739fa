from pathlib import Path

import av
import numpy as np
import pytest

from framesift.errors import VideoError
from framesift.video import synthetic
from framesift.video.decode import iter_frames, probe


def test_frame_indices_follow_pyav_decode_order(rare_video):
    path, truth = rare_video
    with av.open(str(path)) as container:
        reference = [(f.pts, f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]
    frames = list(iter_frames(str(path)))
    assert [f.index for f in frames] == list(range(truth.n_frames))
    assert [f.pts for f in frames] == [pts for pts, _ in reference]
    for decoded, (_, image) in zip(frames, reference, strict=True):
        assert np.array_equal(decoded.to_rgb(), image)


def test_times_come_from_pts(rare_video):
    path, truth = rare_video
    times = [f.time_s for f in iter_frames(str(path))]
    assert times[0] == pytest.approx(0.0)
    assert np.allclose(np.diff(times), 1.0 / truth.fps)


def test_variable_frame_rate_keeps_real_timestamps(tmp_path):
    # pts in a 1/1000 time base with irregular gaps: 0, 40, 50, 200, 210 ms
    pts = [0, 40, 50, 200, 210]
    frames = [np.full((32, 32, 3), 20 * i, np.uint8) for i in range(len(pts))]
    path = tmp_path / "vfr.mkv"
    synthetic.write_video(path, frames, fps=25, pts=pts, time_base=(1, 1000))
    decoded = list(iter_frames(str(path)))
    assert [round(f.time_s, 3) for f in decoded] == [0.0, 0.04, 0.05, 0.2, 0.21]


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotated_phone_video_is_returned_upright(tmp_path, rotation):
    upright = np.zeros((48, 96, 3), np.uint8)
    upright[:, :16] = 255  # white band on the left of the upright picture
    stored = np.ascontiguousarray(np.rot90(upright, k=-rotation // 90))
    path = tmp_path / f"rot{rotation}.mp4"
    synthetic.write_video(path, [stored] * 3, fps=5, rotation=rotation)
    frame = next(iter(iter_frames(str(path))))
    image = frame.to_rgb()
    assert frame.rotation == rotation
    assert image.shape == upright.shape
    assert image[:, :12].mean() > 240 and image[:, 24:].mean() < 15
    small = frame.to_rgb(48, 24)  # display size requested
    assert small.shape == (24, 48, 3)


def test_zero_byte_and_garbage_files_give_one_line_errors(tmp_path: Path):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"not a video" * 50)
    for path, words in ((empty, "zero-byte"), (garbage, "not a readable video")):
        with pytest.raises(VideoError) as info:
            list(iter_frames(str(path)))
        message = str(info.value)
        assert str(path) in message and words in message and "\n" not in message


def test_truncated_video_yields_the_good_frames_then_reports(tmp_path, rare_video):
    path, truth = rare_video
    data = path.read_bytes()
    cut = tmp_path / "cut.mkv"
    # re-mux into mkv (header first, so the head of the file stays decodable), then cut it
    with av.open(str(path)) as src, av.open(str(cut), "w") as dst:
        stream = dst.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(video=0):
            if packet.dts is None:
                continue
            packet.stream = stream
            dst.mux(packet)
    raw = cut.read_bytes()
    cut.write_bytes(raw[: len(raw) // 2])
    frames = []
    try:
        for f in iter_frames(str(cut)):
            frames.append(f.index)
    except VideoError as err:
        assert "truncated" in str(err) or "decoding stopped" in str(err)
    assert 0 < len(frames) < truth.n_frames
    assert frames == list(range(len(frames)))
    assert len(data) > 0


def test_probe_reads_container_facts(rare_video):
    path, truth = rare_video
    info = probe(str(path))
    assert (info.width, info.height) == (160, 120)
    assert info.fps == pytest.approx(truth.fps)
    assert info.codec == "h264"
