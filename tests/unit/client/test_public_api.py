"""The SDK's public surface: exactly the names below, importable without server dependencies.

(httpx itself may pull in ``rich`` for its command line; that is httpx's business, not ours.)
"""

from __future__ import annotations

import subprocess
import sys

import twinstudio.client as sdk

EXPORTED = {
    "APIConnectionError", "APIError", "APITimeoutError", "Asset", "AsyncClient", "AsyncPaginator",
    "AuthenticationError", "AvatarGroup", "Client", "ConflictError", "ErrorInfo", "EventType",
    "InternalServerError", "InvalidParameterError", "JobFailedError", "Look", "NotFoundError",
    "Page", "Paginator", "PayloadTooLargeError", "PermissionDeniedError", "RateLimitError",
    "TrainingFailedError", "TwinstudioError", "Video", "VideoFailedError", "Voice",
    "WaitTimeoutError", "WebhookEndpoint", "WebhookEvent", "WebhookVerificationError",
    "verify_webhook",
}  # fmt: skip


def test_all_is_the_public_api() -> None:
    assert set(sdk.__all__) == EXPORTED
    assert len(sdk.__all__) == len(EXPORTED), "duplicates in __all__"
    for name in sdk.__all__:
        obj = getattr(sdk, name)
        assert obj.__module__ == "twinstudio.client", name
    public = {n for n in dir(sdk) if not n.startswith("_")}
    assert public == EXPORTED, f"names leaked into the package: {public - EXPORTED}"


def test_error_tree() -> None:
    assert issubclass(sdk.APIError, sdk.TwinstudioError)
    for cls in (sdk.InvalidParameterError, sdk.AuthenticationError, sdk.PermissionDeniedError,
                sdk.NotFoundError, sdk.ConflictError, sdk.PayloadTooLargeError,
                sdk.RateLimitError, sdk.InternalServerError):  # fmt: skip
        assert issubclass(cls, sdk.APIError)
    assert issubclass(sdk.APITimeoutError, sdk.APIConnectionError)
    assert issubclass(sdk.VideoFailedError, sdk.JobFailedError)
    for cls in (sdk.APIConnectionError, sdk.JobFailedError, sdk.WaitTimeoutError,
                sdk.WebhookVerificationError):  # fmt: skip
        assert issubclass(cls, sdk.TwinstudioError) and not issubclass(cls, sdk.APIError)


def test_import_does_not_load_server_dependencies() -> None:
    code = (
        "import sys, twinstudio.client\n"
        "heavy = {'fastapi', 'sqlalchemy', 'numpy', 'av', 'cv2', 'mediapipe', 'pydantic',\n"
        "         'starlette', 'uvicorn', 'onnxruntime', 'piper', 'alembic'}\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & heavy)\n"
        "server = sorted(m for m in sys.modules if m.startswith('twinstudio.')\n"
        "                and not m.startswith('twinstudio.client'))\n"
        "print(loaded, server)\n"
        "assert not loaded and not server, (loaded, server)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
