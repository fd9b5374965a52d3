"""The application context shared by the API, the workers and the CLI."""

from __future__ import annotations

from dataclasses import dataclass

from twinstudio.config import Settings
from twinstudio.db.base import Database
from twinstudio.db.migrate import upgrade
from twinstudio.storage.base import Storage
from twinstudio.storage.local import LocalStorage


@dataclass
class AppContext:
    settings: Settings
    db: Database
    storage: Storage


def build_context(settings: Settings, *, migrate: bool = True) -> AppContext:
    """Open the database (migrating it to the latest schema) and the storage backend."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    if migrate:
        upgrade(settings.db_url)
    db = Database(settings.db_url)
    storage = LocalStorage(settings.files_dir, settings.base_url(), settings.signing_key())
    return AppContext(settings=settings, db=db, storage=storage)
