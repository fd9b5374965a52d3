"""``python -m twinstudio.cli`` runs the CLI (used where the console script is not on PATH)."""

from twinstudio.cli.main import app

app()
