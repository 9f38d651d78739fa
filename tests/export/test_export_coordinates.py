"""Coordinate conversions: Label Studio percent and YOLO fractions, exact both ways."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framesift.export.model import (
    ImportedBox,
    percent_to_px,
    px_to_norm,
    px_to_percent,
    quantize_px,
    to_frame_px,
)


def test_percent_is_the_correctly_rounded_value_where_naive_formulas_drift():
    # the conversion must give the float nearest to the exact 100 * x / w, where both naive
    # formulas (x / w * 100 and 100 * x / w) are off by one unit in the last place
    cases = [(1.0, 3), (0.1, 3), (53.0, 160), (0.7, 7), (33.333333333, 120), (101.123456789, 1920), (3.0, 49)]
    for x, size in cases:
        want = float(Fraction(x) * 100 / size)
        assert px_to_percent(x, size) == want
    for x, size, want in [(1.1, 160, 0.6875), (4.3, 1920, 0.22395833333333331), (9.9, 1080, 0.9166666666666667)]:
        assert x / size * 100 != want and 100 * x / size != want
        assert px_to_percent(x, size) == want
        assert percent_to_px(want, size) == x


def test_percent_back_to_pixels_is_exact_for_decimal_pixels():
    assert percent_to_px(px_to_percent(0.7, 7), 7) == 0.7
    assert percent_to_px(px_to_percent(53.0, 160), 160) == 53.0
    assert percent_to_px(33.333333333333336, 3) == 1.0
    assert percent_to_px(50, 1281) == 640.5


@settings(max_examples=400, deadline=None)
@given(
    size=st.integers(min_value=1, max_value=8192),
    units=st.integers(min_value=0, max_value=8192 * 10**6),
)
def test_percent_round_trip_is_bit_exact_for_pixels_with_up_to_six_decimals(size, units):
    x = units / 10**6
    assert percent_to_px(px_to_percent(x, size), size) == x


@settings(max_examples=300, deadline=None)
@given(size=st.integers(min_value=1, max_value=8192), x=st.floats(min_value=0, max_value=8192))
def test_percent_round_trip_of_any_float_stays_within_half_a_nanopixel(size, x):
    assert abs(percent_to_px(px_to_percent(x, size), size) - x) <= 5e-10 + 1e-12 * x


@settings(max_examples=300, deadline=None)
@given(
    w=st.integers(min_value=1, max_value=4096),
    h=st.integers(min_value=1, max_value=4096),
    box=st.tuples(*[st.integers(min_value=0, max_value=4096 * 1000)] * 4),
)
def test_yolo_normalised_box_round_trip_exact(w, h, box):
    x, y, bw, bh = (v / 1000 for v in box)
    cx = px_to_norm(Fraction(x) + Fraction(bw) / 2, w)
    cy = px_to_norm(Fraction(y) + Fraction(bh) / 2, h)
    nw, nh = px_to_norm(bw, w), px_to_norm(bh, h)
    # the reader parses the written text (repr) and converts with the frame size
    fx = [Fraction(repr(v)) for v in (cx, cy, nw, nh)]
    back = to_frame_px(ImportedBox("c", fx[0] - fx[2] / 2, fx[1] - fx[3] / 2, fx[2], fx[3]), "norm", None, (w, h))
    assert back == (x, y, bw, bh)


def test_pixel_boxes_are_scaled_when_the_tool_image_had_another_size():
    box = ImportedBox("c", 10.5, 20.25, 100, 50)
    assert to_frame_px(box, "px", (320, 240), (160, 120)) == (5.25, 10.125, 50.0, 25.0)
    assert to_frame_px(box, "px", None, (160, 120)) == (10.5, 20.25, 100.0, 50.0)
    assert to_frame_px(ImportedBox("c", 25, 50, 12.5, 100), "percent", (1, 1), (160, 120)) == (40.0, 60.0, 20.0, 120.0)


def test_quantize_keeps_floats_and_rounds_only_inexact_values():
    assert quantize_px(0.1 + 0.2) == 0.30000000000000004  # already a float: unchanged
    assert quantize_px(Fraction(3, 10) + Fraction(1, 10**12)) == 0.3
    assert quantize_px(Fraction(1, 3)) == pytest.approx(1 / 3, abs=5e-10) and quantize_px(Fraction(1, 3)) == 0.333333333
