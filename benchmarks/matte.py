"""Background removal at the person's outline, against a known answer, on every real clip.

Real footage has no true alpha, so each clip's person is put in front of new walls whose
alpha *is* known, and the matte (``twins.matte.Matter``, as training runs it) is asked to find
it again:

1. The clip's first ``FRAMES`` frames are matted once without the edge key (the network, its
   temporal filter and the guided filter only); the mask's largest part over one half,
   ``ZONE_PX`` px in from its edge and softened by a Gaussian of ``SOFT_PX`` px per 1000 px of the long side, is the
   *true alpha* ``T`` (the width of a real outline's mix: 2-4 px at 1080p), and the person's
   layer ``F`` is the frame inside that shape, each pixel outside it the colour of the nearest
   one inside.
2. Each frame is laid over a wall ``W``: ``I = T F + (1 - T) W``.
   Four walls: *blue* (a studio blue, lit unevenly), *screen* (a green screen), *sage* (a
   textured dull green), *grey* (light grey: a colour close to many skins and shirts, where
   little can be told apart).
3. The matte of ``I`` is laid over yellow ``N``: ``O = A I + (1 - A) N``, and compared with the
   truth ``T F + (1 - T) N`` on the outline (pixels within ``ZONE_PX`` px of ``T``'s mix):
   ``edge``: mean |O - truth| (RGB levels); ``alpha``: mean |A - T| there (0..1);
   ``wall``: the mean share of the old wall in O there, (1 - T) A; ``holes``: the share of
   pixels well inside the person (``T`` = 1, more than ``ZONE_PX`` px in) whose alpha is under
   0.9. ``unmixed``: the same as ``edge`` with ``render.backdrop``'s unmixing first (the plate
   learnt from the wall's frames; what packs without front videos get at render time);
   ``front``: with ``twins.front``'s person colour found instead (what training stores for
   background-removal renders since pack revision 8).

The matte's time per frame (``ms``) is taken on the blue wall's frames. Writes
``benchmarks/out/matte.json`` and prints a Markdown table. Run the same script with
``PYTHONPATH=<other tree>/src`` to measure another version of the matte on the same walls.
Footage is research-only: nothing made from it is kept.

    python benchmarks/matte.py [clip.mp4 ...]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
from footage import CLIPS

OUT = Path(__file__).resolve().parent / "out" / "matte.json"
FRAMES = 30  # matted per clip and wall (the first: the temporal filter starts there too)
MEASURED = (9, 19, 29)  # the frames compared with the truth
SOFT_PX = 2.0  # the true alpha's Gaussian, px per 1000 px of the long side (real outlines: 2-4)
ZONE_PX = 3  # the outline's reach either side of the true mix, px per 1000 px
NEW = np.float32([0xF0, 0xD8, 0x90])  # the new background: yellow
WALLS = {
    "blue": ((50, 80, 170), 0.25, 8.0),
    "screen": ((40, 165, 70), 0.2, 6.0),
    "sage": ((120, 150, 110), 0.1, 14.0),
    "grey": ((185, 185, 190), 0.1, 6.0),
}  # colour, left-to-right fall of the light, texture (levels)


def _frames(clip: Path) -> list[np.ndarray]:
    with av.open(str(clip)) as container:
        out = []
        for frame in container.decode(video=0):
            out.append(frame.to_ndarray(format="rgb24"))
            if len(out) == FRAMES:
                break
    return out


def _wall(name: str, shape: tuple[int, int]) -> np.ndarray:
    colour, fall, texture = WALLS[name]
    height, width = shape
    rng = np.random.default_rng(7)
    noise = cv2.resize(rng.normal(0, 1, (max(2, height // 24), max(2, width // 24))).astype(
        np.float32), (width, height), interpolation=cv2.INTER_CUBIC)  # fmt: skip
    light = 1.0 - fall * np.linspace(0, 1, width, dtype=np.float32)[None, :]
    wall = np.float32(colour)[None, None, :] * light[..., None] + texture * noise[..., None]
    return np.clip(wall, 0, 255).astype(np.float32)


def _people(frames: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each frame's person layer and true alpha: the network's mask (over one half), ``ZONE_PX``
    px in from its edge (the frame's own mix of person and backdrop lies outside), softened by
    ``SOFT_PX``; the layer is the frame inside that shape and, outside it, the colour of the
    nearest pixel inside (so the person's colour, not the old backdrop, is what mixes with the
    new wall)."""
    from twinstudio.twins.matte import Matter

    matter = Matter(edge_key=False)
    long = max(frames[0].shape[:2])
    reach = max(1, round(ZONE_PX * long / 1000))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
    people = []
    for rgb in frames:
        solid = (matter.alpha(rgb) > 127).astype(np.uint8)
        # The largest part only (the same truth whichever version of the matte drops islands).
        count, labels, stats, _ = cv2.connectedComponentsWithStats(solid, connectivity=8)
        if count > 2:
            solid = (labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))).astype(np.uint8)
        inside = cv2.erode(solid, kernel)
        # The nearest inside pixel of every pixel: labels of the zero pixels of ``1 - inside``.
        _, labels = cv2.distanceTransformWithLabels(
            1 - inside, cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL
        )
        ys, xs = np.nonzero(inside == 1)
        colours = np.zeros((labels.max() + 1, 3), np.uint8)
        order = labels[ys, xs]
        colours[order] = rgb[ys, xs]
        layer = colours[labels]
        truth = cv2.GaussianBlur(inside.astype(np.float32), (0, 0), SOFT_PX * long / 1000)
        people.append((layer, truth))
    matter.close()
    return people


def _unmixer(size: tuple[int, int]) -> Any:
    """``render.backdrop`` applied as the renderer applies it (None in a tree without it):
    f(rgb, alpha, plate) → the RGB picture whose soft pixels lost the plate's share."""
    try:
        from twinstudio.render import yuv
        from twinstudio.render.backdrop import Backdrop, unmix
        from twinstudio.render.framing import whole_view
    except ImportError:
        return None
    view = whole_view(size)

    def apply(rgb: np.ndarray, alpha: np.ndarray, plate: np.ndarray) -> np.ndarray:
        picture = yuv.from_rgb(rgb)
        unmix(picture, alpha, Backdrop.place(plate, view, size))
        return yuv.to_rgb(picture)

    return apply


def _finder(size: tuple[int, int]) -> Any:
    """``twins.front`` applied as training applies it (None in a tree without it): f(rgb,
    alpha, plate) → the RGB picture whose soft pixels show the person's colour found there."""
    try:
        from twinstudio.render import yuv
        from twinstudio.twins.front import find_person, place_plate
    except ImportError:
        return None

    def apply(rgb: np.ndarray, alpha: np.ndarray, plate: np.ndarray) -> np.ndarray:
        picture = yuv.from_rgb(rgb)
        find_person(picture, alpha, place_plate(plate, size))
        return yuv.to_rgb(picture)

    return apply


def _plate_builder(size: tuple[int, int]) -> Any:
    try:
        from twinstudio.twins.plate import PlateBuilder
    except ImportError:
        return None
    return PlateBuilder(size)


def _one(clip: Path) -> dict[str, Any]:
    from twinstudio.twins.matte import Matter

    frames = _frames(clip)
    people = _people(frames)
    height, width = frames[0].shape[:2]
    height, width = height - height % 2, width - width % 2  # I420 for the unmixed blend
    reach = max(1, round(ZONE_PX * max(height, width) / 1000))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
    row: dict[str, Any] = {"clip": clip.name, "size": f"{width}x{height}"}
    unmixer = _unmixer((width, height))
    finder = _finder((width, height))
    for name in WALLS:
        wall = _wall(name, (height, width))
        matter = Matter()
        plate = _plate_builder((width, height))
        kept = []
        spent = 0.0
        for i, (rgb, truth) in enumerate(people):
            rgb, truth = rgb[:height, :width], truth[:height, :width]
            t = truth[..., None]
            seen = np.clip(np.round(t * rgb + (1 - t) * wall), 0, 255).astype(np.uint8)
            start = time.perf_counter()
            alpha = matter.alpha(seen)
            spent += time.perf_counter() - start
            if plate is not None:
                plate.add(seen, alpha)
            if i in MEASURED:
                kept.append((rgb, truth, seen, alpha))
        matter.close()
        found = plate.plate() if plate is not None else None
        sums = np.zeros(6)
        for rgb, truth, seen, alpha in kept:
            mixed = ((truth > 0.01) & (truth < 0.99)).astype(np.uint8)
            zone = cv2.dilate(mixed, kernel) > 0
            inside = (truth >= 0.99) & ~zone
            a = alpha.astype(np.float32)[..., None] / 255
            t = truth[..., None]
            truth_shown = t * rgb + (1 - t) * NEW
            shown = a * seen + (1 - a) * NEW
            if unmixer is not None and found is not None:
                shown_unmixed = a * unmixer(seen, alpha, found) + (1 - a) * NEW
            else:
                shown_unmixed = shown
            if finder is not None and found is not None:
                shown_front = a * finder(seen, alpha, found) + (1 - a) * NEW
            else:
                shown_front = shown_unmixed
            sums += (
                np.abs(shown - truth_shown)[zone].mean(),
                np.abs(shown_unmixed - truth_shown)[zone].mean(),
                np.abs(shown_front - truth_shown)[zone].mean(),
                np.abs(a[..., 0] - truth)[zone].mean(),
                ((1 - truth) * a[..., 0])[zone].mean(),
                (a[..., 0][inside] < 0.9).mean(),
            )
        edge, unmixed, front, alpha_err, wall_share, holes = sums / len(kept)
        row[name] = {"edge": round(edge, 2), "unmixed": round(unmixed, 2),
                     "front": round(front, 2),
                     "alpha": round(alpha_err, 4), "wall": round(wall_share, 4),
                     "holes": round(holes, 5)}  # fmt: skip
        if name == "blue":
            row["ms"] = round(1000 * spent / len(frames), 1)
    return row


def _table(rows: list[dict[str, Any]]) -> str:
    lines = ["| clip | size | ms/frame | " + " | ".join(
        f"{w} edge / unmixed / front / alpha / wall / holes" for w in WALLS) + " |", "|" + "---|" * (3 + len(WALLS))]  # fmt: skip
    for r in rows:
        cells = [
            f"{r[w]['edge']:.2f} / {r[w]['unmixed']:.2f} / {r[w].get('front', 0):.2f} / "
            f"{r[w]['alpha']:.3f} / "
            f"{r[w]['wall']:.3f} / {r[w]['holes']:.4f}"
            for w in WALLS
        ]
        lines.append(f"| {r['clip']} | {r['size']} | {r['ms']} | " + " | ".join(cells) + " |")
    means = {w: {k: float(np.mean([r[w][k] for r in rows])) for k in rows[0][w]} for w in WALLS}
    cells = [
        f"**{means[w]['edge']:.2f}** / **{means[w]['unmixed']:.2f}** / "
        f"**{means[w].get('front', 0):.2f}** / {means[w]['alpha']:.3f} / "
        f"{means[w]['wall']:.3f} / {means[w]['holes']:.4f}"
        for w in WALLS
    ]
    ms = float(np.mean([r["ms"] for r in rows]))
    lines.append(f"| mean | | {ms:.1f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    clips = [Path(a) for a in argv] or sorted(CLIPS.glob("*.mp4"))
    if not clips:
        sys.exit(f"no clips: real footage is not present at {CLIPS}")
    rows = []
    for clip in clips:
        rows.append(_one(clip))
        print(json.dumps(rows[-1]), file=sys.stderr)
    import twinstudio.twins.matte as matte

    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"matte_module": matte.__file__, "clips": rows}, indent=2))
    print(_table(rows))


if __name__ == "__main__":
    main(sys.argv[1:])
