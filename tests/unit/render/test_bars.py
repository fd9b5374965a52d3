"""Bars: a zoomed-out cover window's bands continue the picture (with the background removed,
the person over it); contain keeps blurred bars."""

from __future__ import annotations

import numpy as np

from twinstudio.render import yuv
from twinstudio.render.band import EXTEND_FAR
from twinstudio.render.bars import BarFill, bar_rects
from twinstudio.render.compose import Compositor
from twinstudio.render.continuation import DOME_HEIGHT
from twinstudio.render.framing import plan_frame
from twinstudio.render.types import Background, RenderOptions

SQUARE = (512, 512)
# A face filling a square close-up from the top edge down (the hair cut by the frame's top).
CLOSE_UP = (110, 20, 420, 440)


def _rgb(out: np.ndarray) -> np.ndarray:
    return yuv.to_rgb(out).astype(int)


def test_a_square_close_up_at_9_16_is_zoomed_out_with_its_band_below_the_chest() -> None:
    plan = plan_frame(SQUARE, CLOSE_UP, (1080, 1920), "cover")
    assert not plan.full
    # The head reaches the footage's top: the picture starts at the top; the band is below.
    assert plan.dest[1] == 0 and plan.dest[3] < 1920
    # With room above the head in the footage, the eye line still decides (a band may go above).
    roomy = plan_frame(SQUARE, (91, 90, 421, 340), (1080, 1920), "cover")
    assert not roomy.full and roomy.dest[1] > 0


def test_the_band_continues_the_colours_at_the_picture_edge_and_fades_away_from_it() -> None:
    frame = np.full((512, 512, 3), (200, 200, 200), np.uint8)
    frame[:, :256] = (200, 40, 40)  # a red left half (a jacket) and a blue right half
    frame[:, 256:] = (40, 40, 200)
    comp = Compositor(SQUARE, CLOSE_UP, RenderOptions("1080p", "9:16", "cover"))
    assert comp.plan.dest[3] < 1920
    out = _rgb(comp.compose(frame))
    seam = comp.plan.dest[3]
    below = out[seam + 4]
    # Just below the picture the band has the picture's colours where they are, not a mix.
    assert below[200, 0] > 170 and below[200, 2] < 70, below[200]
    assert below[880, 2] > 170 and below[880, 0] < 70, below[880]
    # No step at the edge (a darkened copy stepped by 45 % here).
    step = np.abs(out[seam + 2].mean(axis=0) - out[seam - 3].mean(axis=0))
    assert np.all(step < 8), step
    # Far from the picture the colours are blurred together and darker, not black.
    last = out[-1].mean(axis=0)
    assert 0.45 * 120 < last[0] < 0.85 * 120 and abs(last[0] - last[2]) < 10, last


def test_the_band_fades_as_it_leaves_the_picture() -> None:
    out_size, dest = (720, 1280), (0, 0, 720, 900)
    picture = yuv.new(out_size)
    picture[...] = 200  # light grey (Y 200, chroma 200: a tint; only luma is checked)
    BarFill(out_size, dest, "extended").fill(picture)
    luma = yuv.planes(picture)[0][:, 360].astype(float)
    assert abs(luma[900] - 200) < 3
    assert np.all(np.diff(luma[900:]) <= 1)  # darker and darker away from it (±1: rounding)
    fade = 16 + EXTEND_FAR * (200 - 16)
    assert abs(luma[-1] - fade) < 4, luma[-1]


def test_side_bands_continue_each_row_of_the_picture_edge() -> None:
    portrait = (608, 1080)
    frame = np.zeros((1080, 608, 3), np.uint8)
    frame[:540] = (30, 170, 40)  # green above, magenta below, on both edges
    frame[540:] = (180, 30, 170)
    comp = Compositor(portrait, (20, 300, 588, 900), RenderOptions("720p", "16:9", "cover"))
    x0, y0, x1, y1 = comp.plan.dest
    assert x0 > 0 and x1 < 1280 and (y0, y1) == (0, 720)
    out = _rgb(comp.compose(frame))
    mid = (540 - comp.plan.crop[1]) * 720 // (comp.plan.crop[3] - comp.plan.crop[1])
    for x in (x0 // 2, (x1 + 1280) // 2):
        assert out[mid - 250, x, 1] > out[mid - 250, x, 0] + 60  # green beside green
        assert out[mid + 250, x, 0] > out[mid + 250, x, 1] + 60  # magenta beside magenta
    for x in (x0 - 3, x1 + 2):  # beside the picture: its own colours, not darkened
        assert np.all(np.abs(out[mid - 150, x] - (30, 170, 40)) < 16), out[mid - 150, x]
        assert np.all(np.abs(out[mid + 150, x] - (180, 30, 170)) < 16), out[mid + 150, x]


def test_every_pixel_outside_the_picture_is_filled_whatever_the_bars() -> None:
    out_size = (1280, 720)
    for dest in [(200, 100, 1000, 600), (0, 120, 1280, 600), (300, 0, 900, 720), (0, 0, 1280, 500)]:
        picture = yuv.new(out_size)
        picture[...] = 0  # out of range for limited-range luma: the bars must overwrite it
        x0, y0, x1, y1 = dest
        for plane, f in zip(yuv.planes(picture), (1, 2, 2), strict=True):
            plane[y0 // f : y1 // f, x0 // f : x1 // f] = 150
        BarFill(out_size, dest, "extended").fill(picture)
        luma = yuv.planes(picture)[0]
        assert luma.min() >= 16, dest
        assert len(bar_rects(out_size, dest)) == sum(
            (x0 > 0, y0 > 0, x1 < out_size[0], y1 < out_size[1])
        )


def test_contain_bars_stay_a_blurred_darkened_copy() -> None:
    frame = np.full((512, 512, 3), (40, 160, 220), np.uint8)
    comp = Compositor(SQUARE, CLOSE_UP, RenderOptions("720p", "9:16", "contain"))
    out = _rgb(comp.compose(frame))
    bar = out[: comp.plan.dest[1]].reshape(-1, 3)
    assert np.all(np.abs(bar.mean(axis=0) - np.array((40, 160, 220)) * 0.55) < 4)


def _bust(alpha_rows: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """A square close-up with its background removed: a red jacket over the middle third of
    its bottom edge (alpha 1, rising from the bottom ``alpha_rows`` high) on a blue backdrop
    (alpha 0) that must not show anywhere."""
    frame = np.full((512, 512, 3), (30, 40, 220), np.uint8)
    alpha = np.zeros((512, 512), np.uint8)
    frame[512 - alpha_rows :, 170:342] = (200, 40, 40)
    alpha[512 - alpha_rows :, 170:342] = 255
    return frame, alpha


def test_with_the_background_removed_the_person_goes_on_into_the_band_over_it() -> None:
    # A square close-up at 9:16 over a colour: the chest, cut by the footage's bottom edge,
    # runs on into the band below instead of ending in a line above a band of the colour.
    green = (40, 180, 60)
    options = RenderOptions("1080p", "9:16", "cover", remove_background=True,
                            background=Background(color="#28B43C"))  # fmt: skip
    comp = Compositor(SQUARE, CLOSE_UP, options)
    x0, _, x1, seam = comp.plan.dest
    assert seam < 1920 - 200
    frame, alpha = _bust()
    out = _rgb(comp.compose(frame, alpha))
    middle = (x0 + x1) // 2
    # Just below the picture, under the jacket: the jacket's red, no step at the edge.
    below = out[seam + 6, middle]
    assert below[0] > 170 and below[1] < 80 and below[2] < 80, below
    step = np.abs(out[seam + 3, middle - 40 : middle + 40].mean(axis=0)
                  - out[seam - 4, middle - 40 : middle + 40].mean(axis=0))  # fmt: skip
    assert np.all(step < 10), step
    # Under the backdrop (alpha 0) the band is the background colour, not the old backdrop.
    for x in (40, 1040):
        assert np.all(np.abs(out[seam + 6, x] - green) < 12), out[seam + 6, x]
        assert np.all(np.abs(out[-2, x] - green) < 12), out[-2, x]
    beside = np.concatenate([out[seam:, :140], out[seam:, -140:]], axis=1).reshape(-1, 3)
    assert np.all(np.abs(beside - green) < 12)  # the old blue backdrop nowhere in the band
    # Far below, the jacket is out of focus but still there, between the green at the sides.
    far = out[-2, middle]
    assert far[0] > far[1] + 40, far

    # A person who does not reach the edge (the jacket ends 100 rows above it): the band is
    # all background.
    frame, alpha = _bust()
    alpha[-100:] = 0
    out = _rgb(comp.compose(frame, alpha))
    assert np.all(np.abs(out[seam + 6 :: 50].reshape(-1, 3) - green) < 12)


def test_a_transparent_webm_continues_the_person_and_contain_keeps_its_bar() -> None:
    frame, alpha = _bust()
    webm = Compositor(SQUARE, CLOSE_UP, RenderOptions(
        "720p", "9:16", "cover", remove_background=True, output_format="webm"))  # fmt: skip
    x0, _, x1, seam = webm.plan.dest
    assert seam < 1280 - 100
    out = webm.compose(frame, alpha)
    assert isinstance(out, yuv.AlphaPicture)
    middle = (x0 + x1) // 2
    # Under the jacket the band is the jacket, opaque; beside it, transparent.
    assert np.all(out.alpha[seam + 4 :, middle] > 200), out.alpha[seam + 4 :, middle].min()
    assert out.alpha[seam:, :80].max() < 3 and out.alpha[seam:, -80:].max() < 3
    rgb = _rgb(out.picture)[seam + 4, middle]
    assert rgb[0] > 170 and rgb[1] < 80 and rgb[2] < 80, rgb
    # ``contain`` shows the whole footage, standing on the frame's edge: with the person below
    # the footage's top, the bar above it stays the background.
    contain = Compositor(SQUARE, CLOSE_UP, RenderOptions(
        "720p", "9:16", "contain", remove_background=True,
        background=Background(color="#28B43C")))  # fmt: skip
    assert contain.plan.dest[3] == 1280 and contain.plan.dest[1] > 500
    frame, alpha = _bust(alpha_rows=300)
    out = _rgb(contain.compose(frame, alpha))
    bar = out[: contain.plan.dest[1] - 4].reshape(-1, 3)
    assert np.all(np.abs(bar - (40, 180, 60)) < 12)


def test_a_head_the_footages_top_cuts_closes_over_in_a_dome() -> None:
    # Under contain with the background removed, a person the footage's top edge cuts (the
    # jacket here rises through the whole picture, 172 px wide, 242 in the 720p output) showed
    # a flat cut against the bar above; it now closes over, as the top of a head does.
    green = np.array((40, 180, 60))
    comp = Compositor(SQUARE, CLOSE_UP, RenderOptions(
        "720p", "9:16", "contain", remove_background=True,
        background=Background(color="#28B43C")))  # fmt: skip
    x0, top, x1, _ = comp.plan.dest
    frame, alpha = _bust()
    out = _rgb(comp.compose(frame, alpha))
    k = (x1 - x0) / 512
    left, right = x0 + round(170 * k), x0 + round(342 * k)
    middle, width = (left + right) // 2, right - left
    assert out[top - 6, middle, 0] > 150 and out[top - 6, middle, 1] < 90  # just above: jacket
    # Higher up it narrows: a quarter of the way in from its sides is the colour at 95 % of the
    # dome's height, the middle still jacket at 70 %; above the dome only the colour (no thread
    # of it rising from the apex).
    rise = DOME_HEIGHT * width
    assert np.all(np.abs(out[top - round(0.95 * rise), left + width // 4] - green) < 40)
    assert np.all(np.abs(out[top - round(0.95 * rise), right - width // 4] - green) < 40)
    assert out[top - round(0.7 * rise), middle, 0] > out[top - round(0.7 * rise), middle, 1]
    assert np.all(np.abs(out[: top - round(1.3 * rise)].reshape(-1, 3) - green) < 12)
    # Beside the jacket at the edge, the colour.
    assert np.all(np.abs(out[top - 6, left - 30] - green) < 12)
    assert np.all(np.abs(out[top - 6, right + 30] - green) < 12)


def _portrait_with_shoulders(hair: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """A 608x1080 phone video with its background removed: a red jacket whose shoulders fall
    from y 700 at the middle to y 800 at both side edges, cut there by the footage; with
    ``hair``, a lock of yellow hair touching the left edge from y 300 to 500."""
    frame = np.full((1080, 608, 3), (30, 40, 220), np.uint8)
    alpha = np.zeros((1080, 608), np.uint8)
    x = np.arange(608)
    top = 700 + (np.abs(x - 304) / 304 * 100).astype(int)  # a slope of 1/3 at the edges
    rows = np.arange(1080)[:, None]
    person = rows >= top[None, :]
    frame[person] = (200, 40, 40)
    alpha[person] = 255
    if hair:
        frame[300:500, :60] = (230, 200, 60)
        alpha[300:500, :60] = 255
    return frame, alpha


def test_contain_continues_the_shoulders_the_footage_cuts_falling_away() -> None:
    # A phone's portrait video at 16:9 with the background removed stands in the middle of the
    # frame; its jacket ended at the footage's sides in two vertical lines. Now each shoulder
    # goes on and falls away, out of focus, over the colour.
    green = (40, 180, 60)
    options = RenderOptions("720p", "16:9", "contain", remove_background=True,
                            background=Background(color="#28B43C"))  # fmt: skip
    comp = Compositor((608, 1080), (200, 200, 408, 450), options)
    x0, y0, x1, y1 = comp.plan.dest
    assert (y0, y1) == (0, 720) and x0 > 400 and x1 < 880
    frame, alpha = _portrait_with_shoulders()
    out = _rgb(comp.compose(frame, alpha))
    shoulder = 800 * 720 // 1080  # the shoulder's top at the footage's edge, in output rows
    for x_in, x_out in ((x0 + 2, x0 - 6), (x1 - 3, x1 + 5)):
        # Just past the edge under the shoulder's top: the jacket, no step from the picture.
        assert np.all(np.abs(out[shoulder + 30, x_out] - (200, 40, 40)) < 30), out[
            shoulder + 30, x_out
        ]
        step = np.abs(out[shoulder + 20 : 700, x_out] - out[shoulder + 20 : 700, x_in]).mean()
        assert step < 12, step
        # Above the shoulder's line the colour, not the jacket continued level.
        assert np.all(np.abs(out[shoulder - 40, x_out] - green) < 16), out[shoulder - 40, x_out]
    # Further out the shoulder has fallen: at the level of its top at the edge, the colour, but
    # lower down still the jacket; at the frame's far edges only the colour.
    for x in (x0 - 120, x1 + 120):
        assert np.all(np.abs(out[shoulder + 10, x] - green) < 16), out[shoulder + 10, x]
        assert out[715, x, 0] > out[715, x, 1] + 60, out[715, x]
    for x in (4, 1275):
        assert np.all(np.abs(out[::40, x] - green) < 16)
    # A transparent WebM: the shoulder is opaque just past the edge, the far side transparent.
    webm = Compositor((608, 1080), (200, 200, 408, 450), RenderOptions(
        "720p", "16:9", "contain", remove_background=True, output_format="webm"))  # fmt: skip
    clear = webm.compose(frame, alpha)
    assert isinstance(clear, yuv.AlphaPicture)
    assert clear.alpha[shoulder + 30 : 715, x0 - 6].min() > 200
    assert clear.alpha[:, :8].max() < 3 and clear.alpha[: shoulder - 40, : x0 - 8].max() < 3


def test_contain_fades_what_else_reaches_the_side_and_leaves_bars_without_removal() -> None:
    green = (40, 180, 60)
    options = RenderOptions("720p", "16:9", "contain", remove_background=True,
                            background=Background(color="#28B43C"))  # fmt: skip
    comp = Compositor((608, 1080), (200, 200, 408, 450), options)
    x0 = comp.plan.dest[0]
    frame, alpha = _portrait_with_shoulders(hair=True)
    out = _rgb(comp.compose(frame, alpha))
    lock = 400 * 720 // 1080
    # The lock of hair goes a little way into the bar and is gone within HAIR_FADE.
    assert out[lock, x0 - 4, 0] > 150 and out[lock, x0 - 4, 1] > 130, out[lock, x0 - 4]
    assert np.all(np.abs(out[lock - 40 : lock + 40, : x0 - 40] - green) < 16)
    # Nobody at the sides (the jacket narrower than the footage): the bars stay the colour.
    alpha[:, :40] = 0
    alpha[:, -40:] = 0
    out = _rgb(comp.compose(frame, alpha))
    assert np.all(np.abs(out[::20, : x0 - 2] - green) < 12)
    assert np.all(np.abs(out[::20, comp.plan.dest[2] + 2 :] - green) < 12)
    # Only a trace of alpha at a side, standing on nothing (the matte's haze on a wall): the
    # bar stays the colour (this once raised instead of drawing nothing).
    alpha[300:400, :40] = 6
    out = _rgb(comp.compose(frame, alpha))
    assert np.all(np.abs(out[::20, : x0 - 2] - green) < 12)


def test_a_footage_frames_continuation_is_made_once_unless_the_change_reaches_its_edge() -> None:
    options = RenderOptions("720p", "16:9", "contain", remove_background=True,
                            background=Background(color="#28B43C"))  # fmt: skip
    comp = Compositor((608, 1080), (200, 200, 408, 450), options)
    x0 = comp.plan.dest[0]
    frame, alpha = _portrait_with_shoulders()
    placed_alpha = comp.view.place_alpha(alpha)

    def shoulder(rgb: np.ndarray, changed: tuple[int, int, int, int]) -> np.ndarray:
        picture = comp.view.place(rgb)
        out = comp.compose_placed(picture, placed_alpha.copy(), source=7, changed=changed)
        assert not isinstance(out, yuv.AlphaPicture)
        return _rgb(out)[690, x0 - 30]

    mouth = (250, 500, 360, 560)  # a box of the view round the mouth, far from its sides
    assert shoulder(frame, mouth)[0] > 150  # the red jacket, made and kept for frame 7
    recoloured = frame.copy()
    recoloured[alpha > 0] = (40, 40, 200)  # the same footage frame, as it must look, in blue
    # The change (the mouth) does not reach the sides: frame 7's kept continuation is reused.
    assert shoulder(recoloured, mouth)[0] > 150
    # A change that reaches the footage's left edge: made afresh, from the picture it shows.
    fresh = shoulder(recoloured, (0, 500, 360, 900))
    assert fresh[2] > 150 and fresh[0] < 90, fresh
