"""Probing a media file: what a render wrote (codecs, size, duration, colour tags, alpha, audio,
and for MP4 whether its index comes first)."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import av

from twinstudio.errors import RenderError

__all__ = ["probe"]


def _mp4_atoms(path: Path) -> list[str]:
    """Top-level MP4 box names in file order (enough to check faststart: moov before mdat)."""
    names: list[str] = []
    size_total = path.stat().st_size
    with path.open("rb") as fh:
        offset = 0
        while offset + 8 <= size_total and len(names) < 64:
            fh.seek(offset)
            size, kind = struct.unpack(">I4s", fh.read(8))
            if size == 1:
                size = struct.unpack(">Q", fh.read(8))[0]
            elif size == 0:
                size = size_total - offset
            names.append(kind.decode("latin-1"))
            if size < 8:
                break
            offset += size
    return names


def probe(path: Path) -> dict[str, Any]:
    """Describe a media file: codecs, size, duration, fps, pix_fmt, audio, colour, alpha.

    Keys: ``format``, ``video_codec``, ``profile``, ``width``, ``height``, ``duration``, ``fps``,
    ``frames``, ``pix_fmt``, ``has_alpha``, ``color_range``, ``color_space``,
    ``color_primaries``, ``color_trc``, ``has_audio``, ``audio_codec``, ``audio_sample_rate``,
    ``audio_channels`` and, for MP4, ``faststart`` (moov before mdat).
    """
    path = Path(path)
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as exc:
        raise RenderError("unreadable_media", f"Could not open {path.name}: {exc}") from exc
    with container:
        info: dict[str, Any] = {
            "format": container.format.name,
            "duration": (container.duration or 0) / 1_000_000,
            "video_codec": None,
            "has_audio": False,
            "audio_codec": None,
        }
        if container.streams.video:
            stream = container.streams.video[0]
            cc = stream.codec_context
            tags = {k.lower(): v for k, v in stream.metadata.items()}
            pix_fmt = cc.pix_fmt
            info.update(
                video_codec=cc.name,
                profile=cc.profile,
                width=cc.width,
                height=cc.height,
                fps=float(stream.average_rate or stream.guessed_rate or 0),
                frames=stream.frames,
                pix_fmt=pix_fmt,
                has_alpha=bool(
                    (pix_fmt and "a" in pix_fmt.replace("yuv", "").replace("gray", ""))
                    or tags.get("alpha_mode") == "1"
                ),
                alpha_mode=tags.get("alpha_mode"),
                color_range=cc.color_range,
                color_space=cc.colorspace,
                color_primaries=cc.color_primaries,
                color_trc=cc.color_trc,
            )
        if container.streams.audio:
            audio = container.streams.audio[0]
            info.update(
                has_audio=True,
                audio_codec=audio.codec_context.name,
                audio_sample_rate=audio.codec_context.sample_rate,
                audio_channels=audio.codec_context.channels,
            )
    if path.suffix.lower() in (".mp4", ".m4v", ".mov"):
        atoms = _mp4_atoms(path)
        if "moov" in atoms and "mdat" in atoms:
            info["faststart"] = atoms.index("moov") < atoms.index("mdat")
        info["atoms"] = atoms
    return info
