"""Write the env file of `make serve` once, and keep it: ports and keys are chosen at the first start.

    python scripts/serve_env.py var/serve/env

An existing file is kept as it is; a variable it lacks (a file written by an older serve.sh) is
added with a fresh value, nothing already there changes. The file is mode 0600 (it holds the
SECRET_KEY and the personal-data keys) and sourceable by a shell and by systemd's EnvironmentFile.
Standard library only: it runs before anything is installed but Python.
"""

import base64
import os
import secrets
import socket
import sys
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def key32() -> str:
    """32 random bytes, urlsafe base64 (what cryptography's AES-GCM and HMAC keys are given as)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def read(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            values[name.strip()] = value.strip()
    return values


def defaults(existing: dict[str, str]) -> dict[str, str]:
    """Every variable the served stack needs, in the order written; ports and keys fresh."""
    out = {}
    if "DATABASE_URL" not in existing:
        out["DATABASE_URL"] = f"postgres://yiwang@127.0.0.1:{free_port()}/yiwang"
    redis_url = existing.get("REDIS_URL") or f"redis://127.0.0.1:{free_port()}/0"
    base = redis_url.rsplit("/", 1)[0]
    out |= {
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_RESULT_BACKEND": f"{base}/1",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "PII_ENCRYPTION_KEYS": f"1:{key32()}",
        "PII_HASH_KEY": key32(),
        "DEBUG": "0",
        "DEMO_MODE": "0",
        # Plain HTTP on the loopback: no TLS proxy in front, so the HTTPS-only settings are off.
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
    }
    return out


def main(path: Path) -> None:
    existing = read(path) if path.exists() else {}
    missing = {name: value for name, value in defaults(existing).items() if name not in existing}
    if not missing:
        os.chmod(path, 0o600)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as out:
        if not existing:
            out.write("# The served stack's settings (scripts/serve.sh), written once and kept. Secret: mode 0600.\n")
        for name, value in missing.items():
            out.write(f"{name}={value}\n")
    os.chmod(path, 0o600)
    print(f"serve: {'wrote' if not existing else 'added ' + ', '.join(missing) + ' to'} {path}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
