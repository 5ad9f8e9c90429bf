"""The production profile passes Django's deployment checks; bad settings are refused."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def manage(*args, **env):
    # Start from the real environment less what the test settings relaxed for localhost.
    relaxed = {"DJANGO_SETTINGS_MODULE", "DEBUG", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE",
               "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    full_env = {k: v for k, v in os.environ.items() if k not in relaxed}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120
    )


def test_production_profile_passes_check_deploy():
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING",
        DEBUG="0", SECRET_KEY="a-real-secret-" + "x" * 50, ALLOWED_HOSTS="yiwang.example.gov.cn",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout + result.stderr


def test_the_insecure_default_key_fails_the_deploy_check():
    result = manage("check", "--deploy", "--fail-level", "WARNING", DEBUG="0", ALLOWED_HOSTS="yiwang.example.gov.cn")
    assert result.returncode != 0
    assert "security.W009" in result.stderr + result.stdout


def test_a_malformed_boolean_is_refused_loudly():
    result = manage("check", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_an_unknown_database_url_is_refused():
    result = manage("check", DATABASE_URL="mysql://u@h/db")
    assert result.returncode != 0
    assert "DATABASE_URL must be" in result.stderr
