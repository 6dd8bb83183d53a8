import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from posture.env import env_bool, env_int, env_list, env_str

ROOT = Path(__file__).resolve().parents[2]


def manage(*args, env):
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_env(tmp_path):
    return {
        "DEBUG": "0",
        "SECRET_KEY": "k" * 20 + "-Zq8#vLx2@pW7!nR4$tY9&mB3^cF6*hJ1(dG5)sA0-eU",
        "ALLOWED_HOSTS": "rampart.example.com",
        "RAMPART_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "RAMPART_DATA_DIR": str(tmp_path),
    }


def test_check_deploy_is_clean_with_only_the_five_required_variables(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_without_encryption_keys(tmp_path):
    env = production_env(tmp_path)
    del env["RAMPART_ENCRYPTION_KEYS"]
    result = manage("check", "--deploy", env=env)
    assert result.returncode != 0
    assert "rampart.E001" in result.stderr


def test_a_malformed_encryption_key_is_reported(tmp_path):
    env = {**production_env(tmp_path), "RAMPART_ENCRYPTION_KEYS": "not-a-key"}
    result = manage("check", env=env)
    assert "rampart.E002" in result.stderr


def test_a_bad_boolean_stops_start_up_with_a_clear_message(tmp_path):
    env = {**production_env(tmp_path), "DEBUG": "maybe"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_secrets_can_be_read_from_files(tmp_path, monkeypatch):
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-a-file\n")
    monkeypatch.setenv("MY_SECRET_FILE", str(secret_file))
    monkeypatch.setenv("MY_SECRET", "from-the-environment")
    assert env_str("MY_SECRET") == "from-a-file"


def test_an_unreadable_secret_file_is_a_configuration_error(tmp_path, monkeypatch):
    monkeypatch.setenv("MY_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="MY_SECRET_FILE"):
        env_str("MY_SECRET")


def test_typed_helpers_parse_and_validate(monkeypatch):
    monkeypatch.setenv("FLAG", "yes")
    monkeypatch.setenv("COUNT", "12")
    monkeypatch.setenv("HOSTS", "a.example.com, b.example.com,")
    assert env_bool("FLAG", default=False) is True
    assert env_int("COUNT", 1) == 12
    assert env_list("HOSTS") == ["a.example.com", "b.example.com"]
    monkeypatch.setenv("COUNT", "twelve")
    with pytest.raises(ImproperlyConfigured, match="COUNT must be an integer"):
        env_int("COUNT", 1)
    monkeypatch.setenv("COUNT", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int("COUNT", 5, minimum=1)
