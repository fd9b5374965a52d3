"""Lip-sync engines: ``sample`` (video twins, CPU) and ``photo`` (still-image twins)."""

from twinstudio.render.lipsync.base import LipSyncEngine, SyncedFrame, engine_for, lipsync_engines

__all__ = ["LipSyncEngine", "SyncedFrame", "engine_for", "lipsync_engines"]
