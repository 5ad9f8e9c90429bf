"""Test settings: the real settings module, with what an HTTP test server on localhost needs."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
os.environ.setdefault("CSRF_COOKIE_SECURE", "0")
os.environ.setdefault("SECURE_HSTS_SECONDS", "0")
# The suite runs with DEBUG=0 and the fixed development keys of personal data.
os.environ.setdefault("REQUIRE_PII_KEYS", "0")

from governance.settings import *  # noqa: E402,F403

# An app of the tests only: it registers an indicator and a dashboard panel from outside governance.
INSTALLED_APPS = [*INSTALLED_APPS, "tests.indicator_app"]  # noqa: F405

# Hashing demo passwords with PBKDF2 dominates a suite that creates many users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Attachments of the tests go to a throwaway folder, not the portal's var/private.
PRIVATE_MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="yiwang-test-private-"))
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "private": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(PRIVATE_MEDIA_ROOT), "base_url": None}},
}
# The cast logs in without a second factor; the tests of the second factor set the roles they need.
OTP_REQUIRED_ROLES = []
# Serve static files from the finders: the suite never runs collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
