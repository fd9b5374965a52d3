"""The domain error tree, shared by the API, the workers and the CLI.

Code raises these; ``api/errors.py`` maps them to HTTP in one place, the CLI maps them to exit
codes, and workers turn them into a video's ``failure_code`` / ``failure_message``.

    TwinstudioError                     (500 internal_error)
     ├── InvalidParameter               (400 invalid_parameter, names the field in ``param``)
     ├── AuthenticationFailed           (401 authentication_failed)
     ├── Forbidden                      (403 forbidden)
     ├── NotFound                       (404 not_found)
     ├── RequestInProgress              (409 request_in_progress)
     ├── PayloadTooLarge                (413 payload_too_large)
     ├── RateLimited                    (429 rate_limit_exceeded, with retry_after)
     ├── MissingDependency              (500; says what to install)
     └── MediaError                     (a job fails with this code and message)
          ├── FootageError              (training: bad footage, e.g. no_face, too_short)
          ├── AudioError                (unreadable / empty audio)
          └── RenderError               (the renderer could not finish)
"""

from __future__ import annotations


class TwinstudioError(Exception):
    """Base of every error twinstudio raises on purpose."""

    code = "internal_error"
    status = 500

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


class InvalidParameter(TwinstudioError):
    code = "invalid_parameter"
    status = 400


class AuthenticationFailed(TwinstudioError):
    code = "authentication_failed"
    status = 401


class Forbidden(TwinstudioError):
    code = "forbidden"
    status = 403


class NotFound(TwinstudioError):
    code = "not_found"
    status = 404


class RequestInProgress(TwinstudioError):
    code = "request_in_progress"
    status = 409


class PayloadTooLarge(TwinstudioError):
    code = "payload_too_large"
    status = 413


class RateLimited(TwinstudioError):
    code = "rate_limit_exceeded"
    status = 429

    def __init__(self, message: str, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class MissingDependency(TwinstudioError):
    """An optional engine's package is not installed; the message says what to install."""

    code = "missing_dependency"


class MediaError(TwinstudioError):
    """A media job cannot go on; ``code`` becomes the job's failure code.

    The message must say what went wrong *and* what the person can do about it.
    """

    status = 400

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class FootageError(MediaError):
    """Twin training refused the footage (no_face, multiple_faces, too_short, ...)."""


class AudioError(MediaError):
    """Audio could not be decoded or holds no sound."""


class RenderError(MediaError):
    """The renderer could not produce the video."""
