"""Footage colour: whatever matrix, range and transfer a recording is coded in, the twin's frames
come out in the renderer's BT.601 limited-range SDR and show the colours that were filmed
(``twins.colour``, through ``twins.ingest.iter_frames``)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from twinstudio.render import yuv
from twinstudio.twins.colour import FootageColour
from twinstudio.twins.ingest import iter_frames, probe

from .conftest import HDR_TAGS, TRC, hdr_frame

PATCH = 16
# A chart of 4 × 3 flat patches: greys, skin tones, saturated primaries (RGB, full range).
CHART = np.array(
    [
        [(16, 16, 16), (128, 128, 128), (200, 200, 200), (225, 225, 225)],
        [(224, 172, 140), (141, 85, 60), (200, 60, 50), (60, 160, 70)],
        [(50, 70, 190), (220, 200, 60), (90, 40, 120), (40, 150, 170)],
    ],
    dtype=np.uint8,
)
SIZE = (CHART.shape[1] * PATCH, CHART.shape[0] * PATCH)  # 64 × 48
FRAMES = 15  # 0.6 s at 25 fps


@pytest.fixture(autouse=True)
def _short_footage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWINSTUDIO_MIN_FOOTAGE_S", "0.5")


def _chart_rgb() -> np.ndarray:
    return np.repeat(np.repeat(CHART, PATCH, axis=0), PATCH, axis=1)


def _centres(rgb: np.ndarray) -> np.ndarray:
    """The mean colour of each patch's middle 8 × 8 (away from chroma-subsampled edges)."""
    h, w = CHART.shape[:2]
    out = np.zeros((h, w, 3))
    for r in range(h):
        for c in range(w):
            y, x = r * PATCH + 4, c * PATCH + 4
            out[r, c] = rgb[y : y + 8, x : x + 8].reshape(-1, 3).mean(axis=0)
    return out


def _write(
    path: Path,
    picture: object,
    codec: str,
    pix_fmt: str,
    tags: dict,
    options: dict,
    size: tuple[int, int] = SIZE,
) -> Path:
    import av

    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=25)
        stream.width, stream.height = size
        stream.pix_fmt = pix_fmt
        stream.codec_context.time_base = Fraction(1, 25)
        stream.options = options
        for name, value in tags.items():
            setattr(stream.codec_context, name, value)
        for i in range(FRAMES):
            frame: Any = picture
            frame.pts = i
            frame.time_base = Fraction(1, 25)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def _sdr_clip(
    path: Path, matrix: str, full: bool, size: tuple[int, int] = SIZE, tagged: bool = True
) -> Path:
    """The chart coded with ``matrix`` in limited or full range by the standard's formulas
    (swscale's own RGB → full-range YUV puts a grey's chroma at 127), H.264 lossless; BT.709
    tagged so unless not ``tagged`` (BT.601 never is). A ``size`` larger than the chart's puts
    it in the top left corner of a grey picture."""
    import av

    kr, kb = {"bt601": (0.299, 0.114), "bt709": (0.2126, 0.0722)}[matrix]
    chart = _chart_rgb()
    canvas = np.full((size[1], size[0], 3), 128, dtype=np.uint8)
    canvas[: chart.shape[0], : chart.shape[1]] = chart
    rgb = canvas.astype(np.float64) / 255.0
    luma = kr * rgb[..., 0] + (1 - kr - kb) * rgb[..., 1] + kb * rgb[..., 2]
    cb = (rgb[..., 2] - luma) / (2 * (1 - kb))
    cr = (rgb[..., 0] - luma) / (2 * (1 - kr))
    y_scale, y_zero, c_scale = (255.0, 0.0, 255.0) if full else (219.0, 16.0, 224.0)

    def half(c: np.ndarray) -> np.ndarray:
        return c.reshape(c.shape[0] // 2, 2, c.shape[1] // 2, 2).mean(axis=(1, 3))

    planes = [
        y_zero + y_scale * luma,
        128 + c_scale * half(cb),
        128 + c_scale * half(cr),
    ]
    flat = np.concatenate([p.reshape(-1) for p in planes])
    picture = av.VideoFrame.from_ndarray(
        np.clip(np.round(flat), 0, 255).astype(np.uint8).reshape(-1, size[0]), format="yuv420p"
    )
    tags = {"color_range": 2 if full else 1}
    if matrix == "bt709" and tagged:
        tags |= {"colorspace": 1, "color_primaries": 1, "color_trc": 1}
    options = {"qp": "0", "preset": "ultrafast"}
    return _write(path, picture, "libx264", "yuv420p", tags, options, size)


def _hdr_clip(path: Path, transfer: str) -> Path:
    """The chart in HDR: HEVC Main 10, BT.2020, HLG or PQ, limited range, tagged so."""
    tags = {**HDR_TAGS, "color_trc": TRC[transfer]}
    options = {"x265-params": "lossless=1:log-level=error", "preset": "ultrafast"}
    picture = hdr_frame(_chart_rgb(), transfer)
    return _write(path, picture, "libx265", "yuv420p10le", tags, options)


def _ingested(path: Path) -> tuple[FootageColour, np.ndarray, np.ndarray]:
    """(the colour probed, the twin picture's patches as RGB, the tracking RGB's patches)."""
    info = probe(path)
    size = (info.width, info.height)
    picture, small = next(iter_frames(path, info, size, size))
    assert picture.format.name == "yuv420p"
    return info.colour, _centres(yuv.to_rgb(picture.to_ndarray())), _centres(small)


@pytest.mark.parametrize(
    ("matrix", "full"), [("bt601", False), ("bt709", False), ("bt601", True), ("bt709", True)]
)
def test_sdr_footage_shows_its_filmed_colours_whatever_its_matrix_and_range(
    tmp_path: Path, matrix: str, full: bool
) -> None:
    """Before, the planes went in unconverted: BT.709 footage's red patch came back as
    (187, 45, 52) and full-range footage's greys stretched (200 → 214, 16 → 0)."""
    colour, picture, small = _ingested(_sdr_clip(tmp_path / "chart.mp4", matrix, full))
    assert colour == FootageColour(matrix, full, "sdr")
    assert np.abs(picture - CHART).max() <= 3.0, picture.round()
    assert np.abs(small - CHART).max() <= 3.0, small.round()


@pytest.mark.parametrize(
    ("size", "matrix"), [((1280, 720), "bt709"), ((720, 1280), "bt709"), ((720, 576), "bt601")]
)
def test_untagged_footage_is_read_as_players_read_it(
    tmp_path: Path, size: tuple[int, int], matrix: str
) -> None:
    """Untagged HD is BT.709 to VLC and QuickTime, and HD cameras code it so; it was taken as
    BT.601 before (the red patch came back (187, 45, 52)). Untagged SD stays BT.601."""
    clip = _sdr_clip(tmp_path / "chart.mp4", matrix, False, size, tagged=False)
    colour, picture, small = _ingested(clip)
    assert colour == FootageColour(matrix, False, "sdr")
    assert np.abs(picture - CHART).max() <= 3.0, picture.round()
    assert np.abs(small - CHART).max() <= 3.0, small.round()


def test_a_twins_own_video_says_how_it_is_coded(tmp_path: Path) -> None:
    """The pack's videos are the renderer's BT.601 pictures; at HD size, untagged, they would
    read as BT.709 (above) wherever they are opened (the dashboard's preview in a browser)."""
    from twinstudio.twins.video import VideoWriter

    path = tmp_path / "base.mp4"
    with VideoWriter(path, (1280, 720), 25) as writer:
        for _ in range(FRAMES):
            writer.write(np.full((720, 1280, 3), 128, dtype=np.uint8))
    assert probe(path).colour == FootageColour("bt601", False, "sdr")


@pytest.mark.parametrize("transfer", ["hlg", "pq"])
def test_hdr_footage_is_tone_mapped_to_the_sdr_it_stands_for(tmp_path: Path, transfer: str) -> None:
    """HDR footage (an iPhone's HLG, a camera's PQ) looks as it would on an SDR screen: below
    the knee, the chart comes back within a few levels; before, its white patch came back at
    179 for 225 (PQ's at 141) and its colours washed out."""
    colour, picture, small = _ingested(_hdr_clip(tmp_path / "chart.mp4", transfer))
    assert colour == FootageColour("bt2020", False, transfer)
    assert np.abs(picture - CHART).max() <= 4.0, picture.round()
    assert np.abs(small - CHART).max() <= 4.0, small.round()


def test_hdr_highlights_roll_off_instead_of_clipping(tmp_path: Path) -> None:
    """Light above the SDR knee is compressed, not cut: brighter HLG greys stay distinct and
    ordered up to the format's peak, and the peak itself is no more than white."""
    from twinstudio.twins.colour import Converter

    signal = np.linspace(0.70, 1.0, 8)  # HLG: reference white (0.75) and above
    rgb48 = np.repeat(np.round(signal * 65535).astype(np.uint16), 3).reshape(1, 8, 3)
    rgb48 = np.ascontiguousarray(np.repeat(np.repeat(rgb48, 8, axis=0), 8, axis=1))
    import av

    frame = av.VideoFrame.from_ndarray(rgb48, format="rgb48le")
    convert = Converter(FootageColour("bt2020", False, "hlg"), (64, 8), (64, 8))
    _, rgb = convert(frame)
    levels = rgb[4, 4::8, 1].astype(int)
    assert (np.diff(levels) >= 0).all(), levels
    assert len(set(levels)) >= 6 and levels[0] >= 220 and levels[-1] >= 252, levels


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({}, FootageColour()),
        ({"width": 1920, "height": 1080}, FootageColour("bt709", False, "sdr")),
        ({"width": 608, "height": 1080}, FootageColour("bt709", False, "sdr")),
        ({"width": 1024, "height": 576}, FootageColour()),
        ({"width": 1920, "height": 1080, "color_primaries": 6}, FootageColour()),
        ({"color_primaries": 1}, FootageColour("bt709", False, "sdr")),
        ({"width": 1920, "height": 1080, "color_trc": 18}, FootageColour("bt2020", False, "hlg")),
        ({"format": "yuvj420p"}, FootageColour("bt601", True, "sdr")),
        ({"colorspace": 1, "color_range": 2}, FootageColour("bt709", True, "sdr")),
        ({"colorspace": 9, "color_trc": 16}, FootageColour("bt2020", False, "pq")),
        ({"color_trc": 18}, FootageColour("bt2020", False, "hlg")),  # only the transfer tagged
        ({"format": "rgb24", "colorspace": 1}, FootageColour("bt601", True, "sdr")),
    ],
)
def test_the_coding_is_read_from_the_frame_tags(tags: dict, expected: FootageColour) -> None:
    from types import SimpleNamespace

    from twinstudio.twins.colour import footage_colour

    fields = {"colorspace": 2, "color_trc": 2, "color_primaries": 2, "color_range": 0}
    fields |= {"width": 64, "height": 48, **tags}
    fields["format"] = SimpleNamespace(name=tags.get("format", "yuv420p"))
    assert footage_colour(SimpleNamespace(**fields)) == expected
