"""The lip-sync engine interface and its registry.

An engine turns a twin pack and a per-frame mouth track into a stream of frames: the person with
the new mouth, plus the alpha matte for the same frame when asked. Long speech arrives in pieces
(one per streamed sentence group): :meth:`LipSyncEngine.stream` takes the tracks one after another
and makes one continuous video of them, so rendering starts before all speech exists. Engines are registered by name
(``@lipsync_engines.register("sample")``) and built lazily; a GPU engine (Wav2Lip / MuseTalk class)
can be added later as one more module without touching the pipeline.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from twinstudio.registry import Registry
from twinstudio.render import yuv
from twinstudio.render.framing import View
from twinstudio.render.motion import MouthTrack
from twinstudio.twins.pack import TwinPack


@dataclass(frozen=True)
class SyncedFrame:
    """One frame in the engine's view: the picture, an I420 array (``render.yuv``, what the
    sample engine draws) or RGB uint8 (H, W, 3) (the photo engine's), and an optional alpha
    (H, W).

    ``picture`` is handed over: a fresh array per frame that the engine never touches again, so
    the compositor and encoder may use it in place (the alpha may be shared between frames).

    ``source``: the footage frame the picture and alpha are, placed in the view, everywhere
    outside ``changed`` (a box of the view, (x0, y0, x1, y1); None: nowhere), when the engine
    knows: the same footage frame is then the same pixels there on every turn of the loop, and
    the compositor blends a matte again only in that box (``render.reuse``). None when the
    picture is not one footage frame as such (a loop crossfade's morph, a photo).

    ``blink``: how far the engine itself closed the eyes (0 open … 1 shut: the photo engine's
    blinks); the thumbnail is never taken mid-blink.
    """

    picture: np.ndarray
    alpha: np.ndarray | None = None
    source: int | None = None
    changed: tuple[int, int, int, int] | None = None
    blink: float = 0.0

    @property
    def rgb(self) -> np.ndarray:
        """The picture as RGB uint8 (H, W, 3) (converted from I420)."""
        return yuv.as_rgb(self.picture)


class LipSyncEngine(ABC):
    """Pack + mouth track → frames. ``kinds``: pack kinds it can drive ("video", "photo")."""

    name: str = ""
    kinds: tuple[str, ...] = ()
    quality_label: str = "standard"

    def frames(
        self,
        pack: TwinPack,
        track: MouthTrack,
        *,
        with_alpha: bool = False,
        view: View | None = None,
    ) -> Iterator[SyncedFrame]:
        """Exactly ``len(track)`` frames, streamed (memory must not grow with the length)."""
        return self.stream(pack, [track], with_alpha=with_alpha, view=view)

    @abstractmethod
    def stream(
        self,
        pack: TwinPack,
        tracks: Iterable[MouthTrack],
        *,
        with_alpha: bool = False,
        view: View | None = None,
        frames: int | None = None,
    ) -> Iterator[SyncedFrame]:
        """``len(track)`` frames for each track in turn, as one continuous video: the tracks
        are consecutive pieces of one timeline (the first frame of a piece follows the last of
        the one before). ``tracks`` is read lazily, one piece ahead of the frames at most.
        ``frames``: the whole video's frame count when the caller knows it, so that an engine
        can make what it will need before its first frame rather than in the middle of them.

        With a ``view`` (``Compositor.view``) frames and alphas come placed in it (its size:
        the shown part of the source, at no more than the output's scale) rather than at the
        pack's size: an engine draws only what will be seen, at the scale it will be seen.
        Alphas placed in a view are feathered (``View.place_alpha``), ready to blend; without
        a view they are the pack's own."""


lipsync_engines: Registry[LipSyncEngine] = Registry("lip-sync engine")
# Which engine drives which kind of twin by default (a GPU deployment may point "video" elsewhere).
DEFAULT_ENGINES = {"video": "sample", "photo": "photo"}


def engine_for(pack: TwinPack) -> LipSyncEngine:
    """The default engine for a pack's kind (imports the engine modules on first use)."""
    from twinstudio.render.lipsync import photo, sample  # noqa: F401  (registers them)

    name = DEFAULT_ENGINES.get(pack.kind)
    if name is None:
        raise KeyError(f"no lip-sync engine for twin kind {pack.kind!r}")
    return lipsync_engines.get(name)
