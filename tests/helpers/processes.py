"""Other processes on the test database: a portal process with its own broker address, and free ports."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A loopback port nothing listens on (as long as nobody takes it first)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    """The PostgreSQL test database, as DATABASE_URL gives it to another process."""
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def portal_process(script: str, broker_port: int) -> dict:
    """Run ``script`` in a separate portal process on the test database with its broker at ``broker_port``;
    the script prints one JSON line, returned."""
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="tests.settings", DATABASE_URL=database_url(),
               CELERY_BROKER_URL=f"redis://127.0.0.1:{broker_port}/0",
               CELERY_RESULT_BACKEND=f"redis://127.0.0.1:{broker_port}/0", REDIS_URL="")
    done = subprocess.run([sys.executable, "-c", "import django; django.setup()\n" + script], env=env,
                          capture_output=True, text=True, timeout=120, cwd=str(ROOT))
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@contextlib.contextmanager
def redis_server_running(directory):
    """A throwaway redis-server on a free port (``.port``, ``.url``); ``.kill()`` stops it the hard way."""
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(directory)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    else:
        proc.kill()
        raise RuntimeError("redis-server did not start")
    proc.port, proc.url = port, f"redis://127.0.0.1:{port}/0"
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=5)
