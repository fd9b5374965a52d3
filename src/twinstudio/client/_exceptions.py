"""The SDK's exceptions: one class per API error code, plus what happens off the wire.

    TwinstudioError                  anything this SDK raises on purpose
     ├── APIError                    the server answered with an error body (status, code, message, param)
     │    ├── InvalidParameterError  400 invalid_parameter (``param`` names the field)
     │    ├── AuthenticationError    401 authentication_failed
     │    ├── PermissionDeniedError  403 forbidden
     │    ├── NotFoundError          404 not_found
     │    ├── ConflictError          409 request_in_progress
     │    ├── PayloadTooLargeError   413 payload_too_large
     │    ├── RateLimitError         429 rate_limit_exceeded (``retry_after`` seconds)
     │    └── InternalServerError    5xx
     ├── APIConnectionError          the server could not be reached
     │    └── APITimeoutError        ... or did not answer in time
     ├── JobFailedError              a job ended in ``failed``
     │    ├── VideoFailedError       a video (``video``, ``failure_code``, ``failure_message``)
     │    └── TrainingFailedError    a look / twin (``look``, ``failure_code``, ``failure_message``)
     ├── WaitTimeoutError            ``wait`` / ``wait_look`` gave up before the job ended
     └── WebhookVerificationError    ``verify_webhook`` refused a delivery

Other 4xx answers (405, 422, ...) raise a plain :class:`APIError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from twinstudio.client._models import Look, Video

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "ConflictError",
    "InternalServerError",
    "InvalidParameterError",
    "JobFailedError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "TrainingFailedError",
    "TwinstudioError",
    "VideoFailedError",
    "WaitTimeoutError",
    "WebhookVerificationError",
    "error_for_status",
]


class TwinstudioError(Exception):
    """Base of every error the SDK raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class APIError(TwinstudioError):
    """The server answered with ``{"error": {"code", "message", "param", "doc_url"}}``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        param: str | None = None,
        *,
        doc_url: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.param = param
        self.doc_url = doc_url
        self.request_id = request_id

    def __str__(self) -> str:
        where = f" (param: {self.param})" if self.param else ""
        return f"{self.status} {self.code}: {self.message}{where}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status}, code={self.code!r}, "
            f"message={self.message!r}, param={self.param!r})"
        )


class InvalidParameterError(APIError):
    """400: a field is missing or wrong; ``param`` names it (dotted path)."""


class AuthenticationError(APIError):
    """401: the API key is missing, wrong or revoked."""


class PermissionDeniedError(APIError):
    """403: the key may not do this (or a signed link is invalid or expired)."""


class NotFoundError(APIError):
    """404: no such object in this account."""


class ConflictError(APIError):
    """409: a request with the same Idempotency-Key is still being handled."""


class PayloadTooLargeError(APIError):
    """413: the upload is over the server's limit."""


class RateLimitError(APIError):
    """429: too many requests or videos in progress; ``retry_after`` is in seconds."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        param: str | None = None,
        *,
        retry_after: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(status, code, message, param, **kwargs)
        self.retry_after = retry_after


class InternalServerError(APIError):
    """5xx: the server failed; retried automatically up to ``max_retries`` times."""


class APIConnectionError(TwinstudioError):
    """The server could not be reached (refused, DNS, TLS, dropped connection)."""


class APITimeoutError(APIConnectionError):
    """The server did not answer within the client's ``timeout``."""


class JobFailedError(TwinstudioError):
    """A server-side job (a render or a training) ended in ``failed``."""

    def __init__(self, message: str, failure_code: str | None, failure_message: str | None) -> None:
        super().__init__(message)
        self.failure_code = failure_code
        self.failure_message = failure_message


class VideoFailedError(JobFailedError):
    """The video ended in ``failed``; ``failure_code`` / ``failure_message`` say why."""

    def __init__(self, video: Video) -> None:
        super().__init__(
            f"video {video.id} failed: {video.failure_code or 'error'}: "
            f"{video.failure_message or 'no message'}",
            video.failure_code,
            video.failure_message,
        )
        self.video = video


class TrainingFailedError(JobFailedError):
    """The look (Digital Twin) failed training; the message says what to record instead."""

    def __init__(self, look: Look) -> None:
        code = look.error.code if look.error else None
        msg = look.error.message if look.error else None
        super().__init__(
            f"look {look.id} failed training: {code or 'error'}: {msg or 'no message'}", code, msg
        )
        self.look = look


class WaitTimeoutError(TwinstudioError):
    """Waiting for a video or a look took longer than the ``timeout`` given."""

    def __init__(self, message: str, *, last: object = None) -> None:
        super().__init__(message)
        self.last = last


class WebhookVerificationError(TwinstudioError):
    """A webhook's signature, timestamp or body did not check out: do not trust it."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: InvalidParameterError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    429: RateLimitError,
}


def error_for_status(
    status: int,
    code: str,
    message: str,
    param: str | None = None,
    *,
    doc_url: str | None = None,
    retry_after: float | None = None,
) -> APIError:
    """The exception instance for an error answer (used by both clients)."""
    if status == 429:
        return RateLimitError(
            status, code, message, param, doc_url=doc_url, retry_after=retry_after
        )
    cls = _BY_STATUS.get(status) or (InternalServerError if status >= 500 else APIError)
    return cls(status, code, message, param, doc_url=doc_url)
