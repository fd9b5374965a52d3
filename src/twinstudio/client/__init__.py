"""The twinstudio Python SDK: a typed client of the HeyGen v3 API that twinstudio serves.

    from twinstudio.client import Client

    with Client("http://127.0.0.1:8000", "tsk_…") as client:
        video = client.videos.create(avatar_id="look_demo_astronaut", voice_id="en_US-joe-medium",
                                     script="Welcome to our product demo.", resolution="720p")
        client.videos.download(client.videos.wait(video.id), "demo.mp4")

It needs only httpx and the standard library: importing it never loads the server's
dependencies. Errors are typed (see :mod:`twinstudio.client._exceptions` for the tree).
"""

from twinstudio.client._async_client import AsyncClient
from twinstudio.client._client import Client
from twinstudio.client._exceptions import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    ConflictError,
    InternalServerError,
    InvalidParameterError,
    JobFailedError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
    TrainingFailedError,
    TwinstudioError,
    VideoFailedError,
    WaitTimeoutError,
    WebhookVerificationError,
)
from twinstudio.client._models import (
    Asset,
    AvatarGroup,
    ErrorInfo,
    EventType,
    Look,
    Page,
    Video,
    Voice,
    WebhookEndpoint,
    WebhookEvent,
)
from twinstudio.client._pagination import AsyncPaginator, Paginator
from twinstudio.client._webhooks import verify_webhook

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "Asset",
    "AsyncClient",
    "AsyncPaginator",
    "AuthenticationError",
    "AvatarGroup",
    "Client",
    "ConflictError",
    "ErrorInfo",
    "EventType",
    "InternalServerError",
    "InvalidParameterError",
    "JobFailedError",
    "Look",
    "NotFoundError",
    "Page",
    "Paginator",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "TrainingFailedError",
    "TwinstudioError",
    "Video",
    "VideoFailedError",
    "Voice",
    "WaitTimeoutError",
    "WebhookEndpoint",
    "WebhookEvent",
    "WebhookVerificationError",
    "verify_webhook",
]

# Show the public path in reprs and tracebacks, as httpx does.
for _name in __all__:
    _obj = globals()[_name]
    if getattr(_obj, "__module__", "").startswith("twinstudio.client._"):
        _obj.__module__ = __name__
del _name, _obj
