"""Hostile video inputs, generated on the spot, each with what framesift must do with it.

Every file is built from scratch (PyAV, a few bytes patched by hand), so the corpus needs no
downloads and the expected outcome of each file is known exactly. docs/reliability.md lists the
same cases with the one-line reasons the CLI prints.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from framesift.video import synthetic

SIZE = (96, 64)  # width, height of the ordinary corpus videos
NON_UTF8_NAME = b"caf\xe9 cr\xe8me.mp4"  # Latin-1 bytes: not valid UTF-8
HUGE_SIDE = 9000  # 81-megapixel MJPEG frames: above framesift's frame-size limit


@dataclass(frozen=True)
class Case:
    file: str  # name in the corpus folder (os.fsdecode of the bytes for the non-UTF-8 one)
    what: str  # the hostile property, for the docs table
    outcome: str  # "processed" | "skipped"
    reason: str = ""  # substring of the one-line skip reason (skipped) or warning (processed)
    frames: int | None = None  # frames the catalog must index (processed)
    needs_unprivileged: bool = False  # only meaningful when file permissions are enforced


def _frames(n: int, seed: int) -> Iterator[np.ndarray]:
    """A textured scene with a square that moves: every frame differs, none is blank."""
    width, height = SIZE
    base = synthetic.textured_background(height, width, seed)
    for i in range(n):
        image = base.copy()
        synthetic.draw_box(image, 4 + (i * 5) % (width - 20), height // 3, 14, 14, (230, 30 + 40 * seed % 200, 20))
        yield image


def _write(path: Path, n: int, seed: int, **kwargs: object) -> Path:
    synthetic.write_video(path, _frames(n, seed), fps=10, **kwargs)  # type: ignore[arg-type]
    return path


def gop_clip(path: Path, n: int, seed: int, gop: int) -> None:
    """H.264 in Matroska with a keyframe every ``gop`` frames (so a cut lands inside a GOP)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height = SIZE
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "18", "preset": "veryfast", "g": str(gop), "keyint_min": str(gop),
                          "sc_threshold": "0", "bf": "0"}
        for image in _frames(n, seed):
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def jpeg_bytes(width: int, height: int, grey: int = 128) -> bytes:
    """A uniform greyscale JPEG: a few KB even at tens of megapixels (a decompression bomb)."""
    buffer = io.BytesIO()
    Image.new("L", (width, height), grey).save(buffer, "JPEG", quality=50)
    return buffer.getvalue()


def mjpeg_clip(path: Path, jpegs: list[bytes], width: int, height: int) -> None:
    """Mux ready-made JPEGs as an MJPEG stream whose header says width x height (no re-encoding)."""
    with av.open(str(path), "w", format="matroska") as container:
        stream = container.add_stream("mjpeg", rate=10)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuvj420p"
        for k, jpeg in enumerate(jpegs):
            packet = av.Packet(jpeg)
            packet.pts = packet.dts = k
            packet.time_base = Fraction(1, 10)
            packet.stream = stream
            container.mux(packet)


def claimed_size(path: Path, side: int) -> None:
    """A 320x256 MJPEG clip whose Matroska and JPEG headers are patched to claim side x side."""
    small = path.with_suffix(".tmp.mkv")
    image = np.zeros((256, 320, 3), np.uint8) + np.uint8(100)
    with av.open(str(small), "w", format="matroska") as container:
        stream = container.add_stream("mjpeg", rate=10)
        stream.width, stream.height, stream.pix_fmt = 320, 256, "yuvj420p"
        for _ in range(3):
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    data = small.read_bytes()
    small.unlink()
    two = side.to_bytes(2, "big")
    patches = [
        (b"\xb0\x82\x01\x40", b"\xb0\x82" + two, 1),  # Matroska PixelWidth 320
        (b"\xba\x82\x01\x00", b"\xba\x82" + two, 1),  # Matroska PixelHeight 256
        (b"\xff\xc0\x00\x11\x08\x01\x00\x01\x40", b"\xff\xc0\x00\x11\x08" + two + two, 3),  # JPEG SOF0
    ]
    for old, new, count in patches:
        if data.count(old) != count:
            raise RuntimeError(f"header bytes {old.hex()} found {data.count(old)} times, expected {count}")
        data = data.replace(old, new)
    path.write_bytes(data)


def _audio_only(path: Path) -> None:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=16000)
        for i in range(20):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 16000, i * 1024
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def build_corpus(folder: Path, *, unprivileged: bool) -> list[Case]:
    """Write every hostile input (plus two ordinary videos) into ``folder``; returns the cases.

    ``unprivileged``: the CLI will run without the right to read a file with mode 000 (a normal
    user, or root with CAP_DAC_OVERRIDE dropped); otherwise that case is left out.
    """
    folder.mkdir(parents=True, exist_ok=True)
    scratch = folder.parent / f"{folder.name}-scratch"
    scratch.mkdir(exist_ok=True)
    cases: list[Case] = []

    _write(folder / "ordinary_a.mp4", 30, seed=1)
    _write(folder / "ordinary_b.mp4", 24, seed=2)
    cases += [Case("ordinary_a.mp4", "ordinary H.264 clip", "processed", frames=30),
              Case("ordinary_b.mp4", "ordinary H.264 clip", "processed", frames=24)]

    (folder / "zero_byte.mp4").write_bytes(b"")
    cases.append(Case("zero_byte.mp4", "zero-byte file", "skipped", "zero-byte file"))

    full = scratch / "gop.mkv"
    gop_clip(full, 60, seed=3, gop=10)
    data = full.read_bytes()
    (folder / "truncated_mid_gop.mkv").write_bytes(data[: len(data) * 55 // 100])
    cases.append(Case("truncated_mid_gop.mkv", "Matroska cut at 55 % of its bytes (inside a GOP)", "processed",
                      "truncated"))

    mp4 = _write(scratch / "moov.mp4", 30, seed=4)
    data = mp4.read_bytes()
    (folder / "truncated_no_index.mp4").write_bytes(data[: len(data) // 2])
    cases.append(Case("truncated_no_index.mp4", "MP4 cut in half (its index, the moov box, is lost)", "skipped",
                      "not a readable video"))

    shutil.copy(folder / "ordinary_a.mp4", folder / "mp4_named_as.avi")
    cases.append(Case("mp4_named_as.avi", "wrong extension: an MP4 named .avi", "processed", frames=30))
    (folder / "text_named_as.mp4").write_text("this is not a video\n" * 40)
    cases.append(Case("text_named_as.mp4", "wrong extension: a text file named .mp4", "skipped",
                      "not a readable video"))

    _audio_only(folder / "audio_only.mp4")
    cases.append(Case("audio_only.mp4", "audio-only MP4 (AAC, no video stream)", "skipped", "no video stream"))

    synthetic.write_video(scratch / "mpeg4.avi", _frames(5, 5), fps=10, codec="mpeg4")
    raw = (scratch / "mpeg4.avi").read_bytes()
    if b"FMP4" not in raw:
        raise RuntimeError("expected the FMP4 fourcc in the MPEG-4 AVI")
    (folder / "unknown_codec.avi").write_bytes(raw.replace(b"FMP4", b"QQQQ"))
    cases.append(Case("unknown_codec.avi", "unsupported codec (AVI fourcc 'QQQQ')", "skipped",
                      "unsupported video codec"))

    synthetic.write_video(folder / "wide_16384x16.mkv", (np.full((16, 16384, 3), (40 * i, 90, 200 - 30 * i), np.uint8)
                                                          for i in range(5)), fps=10)
    cases.append(Case("wide_16384x16.mkv", "huge width: 16384x16 H.264", "processed", frames=5))

    mjpeg_clip(folder / "huge_frames_9000x9000.mkv", [jpeg_bytes(HUGE_SIDE, HUGE_SIDE)] * 3, HUGE_SIDE, HUGE_SIDE)
    cases.append(Case("huge_frames_9000x9000.mkv", "decompression bomb: 81-megapixel MJPEG frames in a small file",
                      "skipped", "megapixel limit"))
    for side, reason in ((16000, "megapixel limit"), (30000, "no decodable frame")):
        claimed_size(folder / f"claims_{side}x{side}.mkv", side)
        cases.append(Case(f"claims_{side}x{side}.mkv", f"headers claim {side}x{side} (MJPEG data of 320x256 frames)",
                          "skipped", reason))

    _write(scratch / "part1.ts", 20, seed=6)
    _write(scratch / "part2.ts", 20, seed=7)
    (folder / "timestamps_restart.ts").write_bytes((scratch / "part1.ts").read_bytes() + (scratch / "part2.ts").read_bytes())
    cases.append(Case("timestamps_restart.ts", "non-monotonic timestamps: two MPEG-TS files joined, pts restart",
                      "processed", frames=40))

    _write(folder / "variable_rate.mkv", len(VFR_PTS), seed=8, pts=VFR_PTS, time_base=(1, 10))
    cases.append(Case("variable_rate.mkv", "variable frame rate (irregular pts)", "processed", frames=len(VFR_PTS)))

    synthetic.write_video(folder / "rotated_90.mp4", (np.ascontiguousarray(np.rot90(f, k=-1)) for f in _frames(12, 9)),
                          fps=10, rotation=90)
    cases.append(Case("rotated_90.mp4", "phone video with a 90 degree display matrix", "processed", frames=12))

    synthetic.write_video(folder / "uniform_grey.mp4", (np.full((64, 96, 3), 128, np.uint8) for _ in range(10)), fps=10)
    cases.append(Case("uniform_grey.mp4", "every frame one uniform colour", "processed", frames=10))

    if unprivileged:
        shutil.copy(folder / "ordinary_b.mp4", folder / "no_read_permission.mp4")
        os.chmod(folder / "no_read_permission.mp4", 0)
        cases.append(Case("no_read_permission.mp4", "file mode 000", "skipped", "permission denied",
                          needs_unprivileged=True))

    os.symlink("loop_b.mp4", folder / "loop_a.mp4")
    os.symlink("loop_a.mp4", folder / "loop_b.mp4")
    os.symlink("self_loop.mp4", folder / "self_loop.mp4")
    os.symlink("nowhere.mp4", folder / "dangling_link.mp4")
    (folder / "sub").mkdir()
    os.symlink("..", folder / "sub" / "parent_loop")  # a directory loop: discovery must not follow it
    for name in ("loop_a.mp4", "loop_b.mp4", "self_loop.mp4", "dangling_link.mp4"):
        cases.append(Case(name, "symlink loop" if "loop" in name else "dangling symlink", "skipped", "symbolic link"))

    non_utf8 = os.fsdecode(NON_UTF8_NAME)
    shutil.copy(folder / "ordinary_b.mp4", os.path.join(os.fsencode(folder), NON_UTF8_NAME))
    cases.append(Case(non_utf8, "non-UTF-8 file name (Latin-1 bytes)", "processed", frames=24))
    shutil.copy(folder / "ordinary_a.mp4", folder / "line\nbreak.mp4")
    cases.append(Case("line\nbreak.mp4", "a newline in the file name", "processed", frames=30))

    shutil.rmtree(scratch)
    return cases


VFR_PTS = [0, 1, 2, 5, 6, 10, 11, 12, 20, 21, 30, 31, 32, 33, 40]  # time base 1/10 s
