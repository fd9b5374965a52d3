"""Domain errors → HTTP, in one place. No stack trace ever reaches a response body."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from twinstudio.errors import RateLimited, TwinstudioError

log = logging.getLogger(__name__)

DOC_URL = "https://github.com/twinstudio/twinstudio#api"


def error_body(code: str, message: str, param: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "param": param, "doc_url": None}}


def _param_of(loc: tuple[Any, ...]) -> str | None:
    # loc is ("body", "voice_settings", "speed") or ("query", "limit"); discriminated unions add
    # the tag ("background", "color", "value"), which we drop so the param is the field path.
    parts = [
        str(p)
        for p in loc[1:]
        if not (isinstance(p, str) and p in {"color", "image"} and loc[0] == "body")
    ]
    return ".".join(parts) or None


def _validation_message(err: dict[str, Any], param: str | None) -> str:
    kind = err.get("type", "")
    if kind == "json_invalid":
        return "The request body is not valid JSON."
    if kind == "missing":
        return f"{param} is required."
    if kind == "model_attributes_type" or kind == "dict_type":
        return f"{param or 'The body'} must be a JSON object."
    msg = str(err.get("msg", "is invalid"))
    msg = msg.removeprefix("Value error, ")
    return f"{param}: {msg}" if param else msg


async def _validation_handler(_request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    if first.get("type") == "json_invalid":
        return JSONResponse(
            error_body("invalid_parameter", _validation_message(first, None)), status_code=400
        )
    param = _param_of(tuple(first.get("loc", ())))
    return JSONResponse(
        error_body("invalid_parameter", _validation_message(first, param), param), status_code=400
    )


async def _domain_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TwinstudioError)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    status = exc.status if exc.status != 500 or exc.code != "internal_error" else 500
    return JSONResponse(
        error_body(exc.code, exc.message, exc.param), status_code=status, headers=headers
    )


_HTTP_CODES = {
    400: "invalid_parameter",
    401: "authentication_failed",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "request_in_progress",
    413: "payload_too_large",
    415: "invalid_parameter",
    429: "rate_limit_exceeded",
}


async def _http_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(
        exc.status_code, "internal_error" if exc.status_code >= 500 else "invalid_parameter"
    )
    message = str(exc.detail) if exc.detail else code
    if exc.status_code == 404 and message == "Not Found":
        message = "No such endpoint; see /docs for the API."
    return JSONResponse(
        error_body(code, message),
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


async def _unexpected_handler(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse(
        error_body(
            "internal_error", "Something went wrong on the server; it has been logged. Try again."
        ),
        status_code=500,
    )


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(RequestValidationError, _validation_handler)  # type: ignore[arg-type]
    app.add_exception_handler(TwinstudioError, _domain_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    app.add_exception_handler(Exception, _unexpected_handler)
