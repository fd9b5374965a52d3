"""Consent: looks wait in pending_consent until the person records their statement."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from tests.factories import make_key, make_look
from twinstudio.db.models import AvatarGroup, Look


def _rel(url: str) -> str:
    p = urlsplit(url)
    return f"{p.path}?{p.query}"


def test_consent_flow_releases_the_look(client: TestClient, ctx) -> None:  # type: ignore[no-untyped-def]
    from twinstudio.services.keys import authenticate

    key = make_key(ctx).secret
    h = {"x-api-key": key}
    with ctx.db.session() as s:
        account_id = authenticate(s, key).id
    look_id = make_look(ctx, account_id, status="pending_consent")
    with ctx.db.session() as s:
        group_id = s.get(Look, look_id).group_id
        s.get(AvatarGroup, group_id).consent_status = "pending"
    look = client.get(f"/v3/avatars/looks/{look_id}", headers=h).json()["data"]
    assert look["status"] == "pending_consent" and "/consent/" in look["consent_url"]
    # a video cannot use it yet
    r = client.post(
        "/v3/videos",
        json={"avatar_id": look_id, "script": "Hi.", "voice_id": "en_US-joe-medium"},
        headers=h,
    )
    assert r.status_code == 400 and "consent" in r.json()["error"]["message"]
    resp = client.post(f"/v3/avatars/{group_id}/consent", headers=h)
    assert resp.status_code == 200
    url = resp.json()["data"]["url"]
    page = client.get(_rel(url))
    assert page.status_code == 200 and "I, Test person, agree" in page.text
    upload = re.search(r'uploadUrl = "([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    assert client.get(_rel(url).replace("sig=", "sig=0")).status_code == 403
    bad = client.post(upload, files={"file": ("x.txt", b"hello, this is text")})
    assert bad.status_code == 400
    wav = (
        b"RIFF"
        + (36).to_bytes(4, "little")
        + b"WAVEfmt "
        + b"\x10\x00\x00\x00\x01\x00\x01\x00"
        + (16000).to_bytes(4, "little")
        + (32000).to_bytes(4, "little")
        + b"\x02\x00\x10\x00data\x00\x00\x00\x00"
    )
    ok = client.post(upload, files={"file": ("consent.wav", wav)})
    assert ok.status_code == 200, ok.text
    assert ok.json()["data"]["consent_status"] == "completed"
    assert (
        client.get(f"/v3/avatars/looks/{look_id}", headers=h).json()["data"]["status"]
        == "completed"
    )
    assert ctx.storage.exists(f"groups/{group_id}/consent.wav")


def test_consent_for_another_accounts_group_is_404(client: TestClient, ctx) -> None:  # type: ignore[no-untyped-def]
    from twinstudio.services.keys import authenticate

    owner = make_key(ctx, "owner").secret
    with ctx.db.session() as s:
        owner_id = authenticate(s, owner).id
    look_id = make_look(ctx, owner_id)
    with ctx.db.session() as s:
        group_id = s.get(Look, look_id).group_id
    other = make_key(ctx, "other").secret
    assert (
        client.post(f"/v3/avatars/{group_id}/consent", headers={"x-api-key": other}).status_code
        == 404
    )


def test_recording_script_covers_every_mouth_shape(client: TestClient, ctx) -> None:  # type: ignore[no-untyped-def]
    data = client.get(
        "/v3/avatars/recording-script", headers={"x-api-key": make_key(ctx).secret}
    ).json()["data"]
    text = data["script"].lower()
    assert 1.5 <= data["minutes_at_150_wpm"] <= 2.5
    for sound in (" p", " b", " m", " f", " v", "oo", " w", "th", "ee", "ah"):
        assert text.count(sound) >= 3, sound
