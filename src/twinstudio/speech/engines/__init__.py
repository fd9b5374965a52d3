"""Speech engines; importing this package registers them (their heavy imports stay lazy)."""

from twinstudio.speech.engines import espeak, festival, kokoro, piper

__all__ = ["espeak", "festival", "kokoro", "piper"]
