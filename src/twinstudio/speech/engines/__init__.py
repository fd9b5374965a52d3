"""Speech engines; importing this package registers them (their heavy imports stay lazy)."""

from twinstudio.speech.engines import espeak, piper

__all__ = ["espeak", "piper"]
