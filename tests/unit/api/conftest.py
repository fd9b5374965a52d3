from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient


@pytest.fixture()
def client(ctx) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    from twinstudio.api.app import create_app

    app = create_app(ctx.settings, ctx=ctx, workers=0)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
