"""Bad requests get the documented error shape and status, never a 500 or a stack trace."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import make_key, make_look

VOICE = "en_US-joe-medium"


def assert_error(resp: Any, status: int, code: str, param: str | None = None) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error"}
    err = body["error"]
    assert err["code"] == code
    assert isinstance(err["message"], str) and err["message"]
    assert "Traceback" not in err["message"]
    if param is not None:
        assert err["param"] == param
    return err


@pytest.fixture()
def key(ctx) -> str:  # type: ignore[no-untyped-def]
    return make_key(ctx).secret


@pytest.fixture()
def look_id(ctx, key: str) -> str:  # type: ignore[no-untyped-def]
    from twinstudio.services.keys import authenticate

    with ctx.db.session() as s:
        account_id = authenticate(s, key).id
    return make_look(ctx, account_id)


def test_missing_and_wrong_key_are_401(client: TestClient) -> None:
    assert_error(client.get("/v3/videos"), 401, "authentication_failed")
    assert_error(
        client.get("/v3/videos", headers={"x-api-key": "tsk_nope"}), 401, "authentication_failed"
    )


def test_revoked_key_is_401(client: TestClient, ctx) -> None:  # type: ignore[no-untyped-def]
    from twinstudio.services.keys import revoke_key

    created = make_key(ctx)
    assert client.get("/v3/videos", headers={"x-api-key": created.secret}).status_code == 200
    with ctx.db.session() as s:
        revoke_key(s, created.key_id)
    assert_error(
        client.get("/v3/videos", headers={"x-api-key": created.secret}),
        401,
        "authentication_failed",
    )


def test_malformed_json_is_400(client: TestClient, key: str) -> None:
    resp = client.post(
        "/v3/videos",
        content=b"{not json",
        headers={"x-api-key": key, "content-type": "application/json"},
    )
    assert_error(resp, 400, "invalid_parameter")


def test_body_that_is_not_an_object_is_400(client: TestClient, key: str) -> None:
    assert_error(
        client.post("/v3/videos", json=[1, 2], headers={"x-api-key": key}), 400, "invalid_parameter"
    )


@pytest.mark.parametrize(
    ("patch", "param"),
    [
        ({"resolution": "2k"}, "resolution"),
        ({"resolution": 1080}, "resolution"),
        ({"aspect_ratio": "4:3"}, "aspect_ratio"),
        ({"fit": "stretch"}, "fit"),
        ({"voice_settings": {"speed": 2.0}}, "voice_settings.speed"),
        ({"voice_settings": {"speed": 0.4}}, "voice_settings.speed"),
        ({"voice_settings": {"pitch": 51}}, "voice_settings.pitch"),
        ({"voice_settings": {"pitch": "high"}}, "voice_settings.pitch"),
        ({"script": ""}, "script"),
        ({"script": "   "}, "script"),
        ({"script": "a" * 5001}, "script"),
        ({"script": 42}, "script"),
        ({"voice_id": "no-such-voice"}, "voice_id"),
        ({"avatar_id": "look_nope"}, "avatar_id"),
        ({"remove_background": "yes"}, "remove_background"),
        ({"remove_background": True}, "remove_background"),
        ({"background": {"type": "color", "value": "red"}}, "background.value"),
        (
            {"background": {"type": "color", "value": "#112233"}},
            "background",
        ),  # cover, no matting: unseen
        ({"background": {"type": "image"}}, "background"),
        ({"background": {"type": "video", "url": "http://x"}}, "background"),
        ({"output_format": "avi"}, "output_format"),
        ({"caption": {"style": {"font_size": 1000}}}, "caption.style.font_size"),
        ({"caption": {"style": {"sparkles": True}}}, "caption.style.sparkles"),
        ({"caption": {"file_format": "ass"}}, "caption.file_format"),
        ({"callback_url": "ftp://example.com/hook"}, "callback_url"),
        ({"title": "t" * 501}, "title"),
    ],
)
def test_each_field_is_validated(
    client: TestClient, key: str, look_id: str, patch: dict[str, Any], param: str
) -> None:
    body = {"avatar_id": look_id, "script": "Hello there.", "voice_id": VOICE, **patch}
    err = assert_error(
        client.post("/v3/videos", json=body, headers={"x-api-key": key}), 400, "invalid_parameter"
    )
    assert err["param"] == param, err


def test_missing_avatar_id_names_the_field(client: TestClient, key: str) -> None:
    resp = client.post(
        "/v3/videos", json={"script": "Hi", "voice_id": VOICE}, headers={"x-api-key": key}
    )
    assert_error(resp, 400, "invalid_parameter", "avatar_id")


def test_script_or_audio_is_required(client: TestClient, key: str, look_id: str) -> None:
    resp = client.post(
        "/v3/videos", json={"avatar_id": look_id, "voice_id": VOICE}, headers={"x-api-key": key}
    )
    assert_error(resp, 400, "invalid_parameter", "script")


def test_another_accounts_look_is_unknown(client: TestClient, ctx, key: str) -> None:  # type: ignore[no-untyped-def]
    other = make_key(ctx, "other")
    from twinstudio.services.keys import authenticate

    with ctx.db.session() as s:
        other_account = authenticate(s, other.secret).id
    their_look = make_look(ctx, other_account)
    body = {"avatar_id": their_look, "script": "Hello.", "voice_id": VOICE}
    assert_error(
        client.post("/v3/videos", json=body, headers={"x-api-key": key}),
        400,
        "invalid_parameter",
        "avatar_id",
    )
    assert_error(
        client.get(f"/v3/avatars/looks/{their_look}", headers={"x-api-key": key}), 404, "not_found"
    )
    # and it works for its owner
    assert (
        client.post("/v3/videos", json=body, headers={"x-api-key": other.secret}).status_code == 200
    )


def test_another_accounts_video_is_404(client: TestClient, ctx, key: str, look_id: str) -> None:  # type: ignore[no-untyped-def]
    body = {"avatar_id": look_id, "script": "Hello.", "voice_id": VOICE}
    video_id = client.post("/v3/videos", json=body, headers={"x-api-key": key}).json()["data"][
        "video_id"
    ]
    other = make_key(ctx, "other").secret
    assert_error(
        client.get(f"/v3/videos/{video_id}", headers={"x-api-key": other}), 404, "not_found"
    )
    assert_error(
        client.delete(f"/v3/videos/{video_id}", headers={"x-api-key": other}), 404, "not_found"
    )
    assert client.get(f"/v3/videos/{video_id}", headers={"x-api-key": key}).status_code == 200


def test_look_still_training_is_refused(client: TestClient, ctx, key: str) -> None:  # type: ignore[no-untyped-def]
    from twinstudio.services.keys import authenticate

    with ctx.db.session() as s:
        account_id = authenticate(s, key).id
    training = make_look(ctx, account_id, status="processing")
    body = {"avatar_id": training, "script": "Hello.", "voice_id": VOICE}
    err = assert_error(
        client.post("/v3/videos", json=body, headers={"x-api-key": key}),
        400,
        "invalid_parameter",
        "avatar_id",
    )
    assert "training" in err["message"]


def test_unknown_route_and_method(client: TestClient, key: str) -> None:
    assert_error(client.get("/v3/nothing", headers={"x-api-key": key}), 404, "not_found")
    assert client.put("/v3/videos", headers={"x-api-key": key}).status_code == 405


def test_bad_pagination_params(client: TestClient, key: str) -> None:
    assert_error(
        client.get("/v3/videos?limit=0", headers={"x-api-key": key}),
        400,
        "invalid_parameter",
        "limit",
    )
    assert_error(
        client.get("/v3/videos?limit=101", headers={"x-api-key": key}),
        400,
        "invalid_parameter",
        "limit",
    )
    assert_error(
        client.get("/v3/videos?limit=abc", headers={"x-api-key": key}),
        400,
        "invalid_parameter",
        "limit",
    )
    assert_error(
        client.get("/v3/videos?token=garbage!", headers={"x-api-key": key}),
        400,
        "invalid_parameter",
        "token",
    )
    assert_error(
        client.get("/v3/avatars/looks?avatar_type=cartoon", headers={"x-api-key": key}),
        400,
        "invalid_parameter",
        "avatar_type",
    )
