"""The ``twinstudio`` command against a real server, run as a user runs it (a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.server import Server, free_port

DEMO_LOOK = "look_demo_astronaut"
VOICE = "en_US-joe-medium"


def cli(*args: str, server: Server | None = None, key: str | None = None,
        env: dict[str, str] | None = None, timeout: float = 240) -> subprocess.CompletedProcess[str]:  # fmt: skip
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("TWINSTUDIO_")}
    full_env["COLUMNS"] = "200"
    if server is not None:
        full_env["TWINSTUDIO_BASE_URL"] = server.url
        full_env["TWINSTUDIO_API_KEY"] = key if key is not None else server.key
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "twinstudio.cli", *args], env=full_env,
                          capture_output=True, text=True, timeout=timeout)  # fmt: skip


def no_traceback(done: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in done.stderr + done.stdout, done.stderr


def test_cannot_reach_the_server_exits_3(tmp_path: Path) -> None:
    done = cli("videos", "list", "--base-url", f"http://127.0.0.1:{free_port()}", "--api-key", "x",
               env={"TWINSTUDIO_DATA_DIR": str(tmp_path)})  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert "cannot reach" in done.stderr
    no_traceback(done)


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    done = cli("videos", "create", "--avatar", DEMO_LOOK, "--api-key", "x")
    assert done.returncode == 2 and "--script" in done.stderr
    done = cli("render", "--out", str(tmp_path / "x.mp4"), "--script", "hi")
    assert done.returncode == 2 and "--look-pack" in done.stderr
    no_traceback(done)
    done = cli("--help")
    assert done.returncode == 0 and "Exit codes" in done.stdout


@pytest.mark.slow
def test_videos_create_wait_out_json(server: Server, tmp_path: Path) -> None:
    out = tmp_path / "x.mp4"
    done = cli("videos", "create", "--avatar", DEMO_LOOK, "--voice", VOICE, "--script",
               "Hello from the command line.", "--resolution", "720p", "--fit", "contain", "--background", "#1A2B3C",
               "--title", "cli-test", "--wait", "--out", str(out), "--json", server=server)  # fmt: skip
    assert done.returncode == 0, done.stderr + server.log()
    video = json.loads(done.stdout)
    assert video["status"] == "completed" and video["file"] == str(out)
    assert out.read_bytes()[4:8] == b"ftyp"
    shown = json.loads(cli("videos", "show", video["id"], "--json", server=server).stdout)
    assert shown["id"] == video["id"] and shown["status"] == "completed"
    listed = cli("videos", "list", "--json", server=server)
    assert video["id"] in [v["id"] for v in json.loads(listed.stdout)]
    table = cli("videos", "list", "--title", "cli-test", server=server)
    assert table.returncode == 0 and video["id"] in table.stdout
    assert cli("videos", "delete", video["id"], server=server).returncode == 0
    gone = cli("videos", "show", video["id"], server=server)
    assert gone.returncode == 4 and "not_found" in gone.stderr
    no_traceback(gone)


@pytest.mark.slow
def test_a_webm_out_asks_for_webm(server: Server, tmp_path: Path) -> None:
    """``--out x.webm`` (or ``--format webm``) makes a WebM, on the server and locally."""
    webm = b"\x1a\x45\xdf\xa3"  # the EBML header's magic
    out = tmp_path / "x.webm"
    done = cli("videos", "create", "--avatar", DEMO_LOOK, "--voice", VOICE, "--script", "Hi.",
               "--resolution", "720p", "--out", str(out), "--json", server=server)  # fmt: skip
    assert done.returncode == 0, done.stderr + server.log()
    video = json.loads(done.stdout)
    assert video["status"] == "completed" and out.read_bytes()[:4] == webm
    assert video["video_url"].split("?")[0].endswith(".webm")
    from twinstudio.twins.demo import demo_source

    local = tmp_path / "local.webm"
    done = cli("render", "--photo", str(demo_source()), "--script", "Hi.", "--resolution", "720p",
               "--out", str(local), "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert local.read_bytes()[:4] == webm and json.loads(done.stdout)["file"] == str(local)


@pytest.mark.slow
def test_invalid_parameter_exits_2_with_a_clear_message(server: Server) -> None:
    done = cli("videos", "create", "--avatar", DEMO_LOOK, "--voice", VOICE, "--script", "Hi",
               "--resolution", "999p", server=server)  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "invalid_parameter" in done.stderr and "resolution" in done.stderr
    no_traceback(done)
    as_json = cli("videos", "create", "--avatar", DEMO_LOOK, "--voice", VOICE, "--script", "Hi",
                  "--resolution", "999p", "--json", server=server)  # fmt: skip
    assert as_json.returncode == 2
    assert json.loads(as_json.stdout)["error"]["param"] == "resolution"


@pytest.mark.slow
def test_wrong_key_exits_4(server: Server) -> None:
    done = cli("videos", "list", server=server, key="tsk_wrong")
    assert done.returncode == 4, done.stderr
    assert "authentication_failed" in done.stderr
    no_traceback(done)


@pytest.mark.slow
def test_twins_voices_and_webhooks(server: Server, tmp_path: Path) -> None:
    looks = json.loads(cli("twins", "list", "--json", server=server).stdout)
    assert DEMO_LOOK in [look["id"] for look in looks]
    plain = cli("twins", "list", server=server)
    assert any(line.startswith(DEMO_LOOK) for line in plain.stdout.splitlines())
    shown = cli("twins", "show", DEMO_LOOK, server=server)
    assert shown.returncode == 0 and "completed" in shown.stdout
    voices = json.loads(
        cli("voices", "list", "--language", "English", "--json", server=server).stdout
    )
    assert VOICE in [v["voice_id"] for v in voices]
    wav = tmp_path / "joe.wav"
    assert cli("voices", "preview", VOICE, "--out", str(wav), server=server).returncode == 0
    assert wav.read_bytes()[:4] == b"RIFF"

    created = cli("webhooks", "endpoints", "create", "http://127.0.0.1:9/hook", server=server)
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip().splitlines()[-1].startswith("whsec_")
    endpoints = json.loads(cli("webhooks", "endpoints", "list", "--json", server=server).stdout)
    endpoint_id = endpoints[0]["endpoint_id"]
    rotated = json.loads(
        cli("webhooks", "endpoints", "rotate", endpoint_id, "--json", server=server).stdout
    )
    assert rotated["secret"].startswith("whsec_")
    assert cli("webhooks", "events", server=server).returncode == 0
    assert cli("webhooks", "endpoints", "delete", endpoint_id, server=server).returncode == 0
    missing = cli("twins", "delete", "look_nope", server=server)
    assert missing.returncode == 4


@pytest.mark.slow
def test_bootstrap_key_fallback_and_keys_create(server: Server) -> None:
    data_env = {"TWINSTUDIO_DATA_DIR": str(server.data_dir)}
    done = cli("twins", "list", "--base-url", server.url, env=data_env)
    assert done.returncode == 0 and DEMO_LOOK in done.stdout, done.stderr
    made = cli("keys", "create", "--name", "cli-test", env=data_env)
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("tsk_")
    fresh = cli("videos", "list", "--json", server=server, key=key)
    assert fresh.returncode == 0 and json.loads(fresh.stdout) == []


def _demo_photo() -> Path:
    from twinstudio.twins.demo import demo_source

    return demo_source()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["png", "heic"])
def test_twins_create_from_a_photo(server: Server, tmp_path: Path, kind: str) -> None:
    photo = _demo_photo()
    if kind == "heic":  # as an iPhone takes it
        from PIL import Image
        from pillow_heif import register_heif_opener

        register_heif_opener()
        photo = tmp_path / "IMG_0042.HEIC"
        with Image.open(_demo_photo()) as img:
            img.convert("RGB").save(photo, format="HEIF", quality=90)
    # A PNG named with --photo; an iPhone's HEIC told apart from footage by the server.
    flags = ["--photo"] if kind == "png" else []
    done = cli("twins", "create", str(photo), "--name", "Astro copy", *flags, "--json",
               server=server)  # fmt: skip
    assert done.returncode == 0, done.stderr + server.log()
    look = json.loads(done.stdout)
    assert (
        look["status"] in ("completed", "pending_consent") and look["avatar_type"] == "photo_avatar"
    )
    assert cli("twins", "delete", look["id"], server=server).returncode == 0


@pytest.mark.slow
def test_render_locally_without_a_server(tmp_path: Path) -> None:
    pack, out = tmp_path / "pack", tmp_path / "local.mp4"
    env = {"TWINSTUDIO_DATA_DIR": str(tmp_path / "data")}
    done = cli("render", "--photo", str(_demo_photo()), "--script", "Hi there.", "--resolution",
               "720p", "--save-pack", str(pack), "--out", str(out), "--json", env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    assert (info["width"], info["height"]) == (1280, 720) and out.read_bytes()[4:8] == b"ftyp"
    again = cli("render", "--look-pack", str(pack), "--script", "Again.", "--resolution", "720p",
                "--aspect", "9:16", "--background", "#102030", "--out", str(out), env=env)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().splitlines()[-1] == str(out)
    missing = cli("render", "--look-pack", str(pack), "--audio", str(tmp_path / "none.wav"),
                  "--out", str(out), env=env)  # fmt: skip
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    lively = cli("render", "--look-pack", str(pack), "--script", "Hi.", "--resolution", "720p",
                 "--expressiveness", "high", "--out", str(out), env=env)  # fmt: skip
    assert lively.returncode == 0, lively.stderr
    wild = cli("render", "--look-pack", str(pack), "--script", "Hi.", "--expressiveness", "wild",
               "--out", str(out), env=env)  # fmt: skip
    assert wild.returncode == 2 and "--expressiveness must be a number" in wild.stderr


def test_voices_add_refuses_a_file_that_is_not_a_voice(tmp_path: Path) -> None:
    bogus = tmp_path / "voice.txt"
    bogus.write_text("not a voice")
    done = cli("voices", "add", str(bogus), env={"TWINSTUDIO_DATA_DIR": str(tmp_path / "data")})
    assert done.returncode == 2 and "onnx" in done.stderr
    no_traceback(done)
