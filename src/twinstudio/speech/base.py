"""The text-to-speech engine interface and the registry engines add themselves to.

An engine only turns one plain sentence into a sample-level :class:`Track`; the shared
:meth:`TTSEngine.synthesize` does the rest the same way for every engine: ``<break>`` pauses as
exact silence, English normalising, sentence splitting, speed/pitch/volume, and millisecond timings.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from twinstudio.errors import InvalidParameter
from twinstudio.registry import Registry
from twinstudio.speech import effects
from twinstudio.speech.text import prepare
from twinstudio.speech.timeline import Track, concat
from twinstudio.speech.types import Speech, Voice, VoiceSettings

SENTENCE_GAP_MS = 200  # silence between two sentences that have no <break> between them


class TTSEngine(ABC):
    """A speech engine. ``voices()`` must be cheap (no model loading): the catalog lists them.

    Engines whose optional dependency is missing return no voices and raise
    :class:`~twinstudio.errors.MissingDependency` (saying what to install) from ``synthesize``.
    """

    name: str = ""
    sample_rate: int = 22050

    @abstractmethod
    def voices(self) -> list[Voice]:
        """The voices this engine can speak right now (empty if its dependency is missing)."""

    @abstractmethod
    def speak(self, sentence: str, voice: Voice) -> Track:
        """One normalised sentence at speed 1.0, at :attr:`sample_rate`, with exact phonemes."""

    def language_of(self, voice: Voice) -> str:
        """Language code used to pick the text normaliser (``"en"`` normalises English)."""
        return voice.locale.split("-")[0].lower()

    def synthesize(self, text: str, voice: Voice, settings: VoiceSettings | None = None) -> Speech:
        """Speak a whole script: pauses, sentences and ``settings`` applied, timings exact."""
        settings = settings or VoiceSettings()
        check_settings(settings)
        segments = prepare(text, self.language_of(voice))
        if not any(not s.is_pause for s in segments):
            raise InvalidParameter("the script has nothing to say", param="script")
        pieces: list[Track] = []
        previous_spoken = False
        for segment in segments:
            if segment.is_pause:
                pieces.append(Track.silence(self._samples(segment.pause_ms), self.sample_rate))
                previous_spoken = False
                continue
            if previous_spoken:
                gap_ms = SENTENCE_GAP_MS / settings.speed  # part of the speech: it scales too
                pieces.append(Track.silence(self._samples(gap_ms), self.sample_rate))
            # Speed stretches speech only: a <break time="1s"/> stays one second at any speed.
            spoken = self.speak(segment.text, voice)
            pieces.append(effects.stretch_track(spoken, 1.0 / settings.speed))
            previous_spoken = True
        speech = concat(pieces, self.sample_rate).to_speech()
        return effects.apply_settings(speech, settings, speed=False)

    def _samples(self, ms: float) -> int:
        return round(ms * self.sample_rate / 1000)


def check_settings(settings: VoiceSettings) -> None:
    """Reject out-of-range ``voice_settings`` (the API validates too; engines must not trust it)."""
    ranges = {"speed": (0.5, 1.5), "pitch": (-50.0, 50.0), "volume": (0.0, 2.0)}
    for name, (low, high) in ranges.items():
        value = getattr(settings, name)
        if not low <= value <= high:
            raise InvalidParameter(
                f"voice_settings.{name} must be between {low:g} and {high:g} (got {value!r})",
                param=f"voice_settings.{name}",
            )


engines: Registry[TTSEngine] = Registry("speech engine")
"""Engines by name: ``@engines.register("piper")`` on the class; instances are created lazily."""
