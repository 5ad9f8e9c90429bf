"""`make serve` as production runs it: every process supervised and restarted alone, state kept.

The stack (scripts/serve.sh: supervisord with PostgreSQL, Redis, a Celery worker, beat and gunicorn)
is started on free ports in a temp dir, without the migrate/demo setup (SERVE_SETUP=0: a first
migrate alone takes most of a minute on this machine; the supervision is what is tested here).
Runs in the PostgreSQL + Redis run of `make test` only; bounded well under 90 s.
"""

import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from tests.helpers.markers import on_postgres
from tests.helpers.processes import ROOT, free_port

BIN = Path(sys.executable).parent
PG_BINS = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
missing = [name for name, ok in (("PostgreSQL binaries", PG_BINS), ("redis-server", shutil.which("redis-server")),
                                 ("supervisord (requirements.txt)", (BIN / "supervisord").exists())) if not ok]

pytestmark = [
    pytest.mark.skipif(not on_postgres, reason="starts its own PostgreSQL and Redis: in make test's servers run only"),
    pytest.mark.skipif(bool(missing), reason=f"not installed: {', '.join(missing)}"),
]


class Stack:
    """scripts/serve.sh in its own process group, with supervisorctl on its socket."""

    def __init__(self, state: Path, port: int):
        self.state, self.port, self.proc = state, port, None
        self.env = {k: v for k, v in os.environ.items()
                    if k not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL",
                                 "CELERY_RESULT_BACKEND", "STATIC_ROOT"}}
        self.env |= {"YIWANG_SERVE_DIR": str(state), "PORT": str(port), "PYTHON": sys.executable,
                     "SERVE_SETUP": "0", "SERVE_PG_OPTIONS": "-c fsync=off",
                     "GUNICORN_WORKERS": "1", "CELERY_CONCURRENCY": "1"}

    def start(self):
        self.log = open(self.state.parent / "serve.out", "a")
        self.proc = subprocess.Popen(["scripts/serve.sh"], cwd=ROOT, env=self.env, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        t = time.monotonic()
        wait_for(lambda: self.answers() and self.pid("worker") and self.pid("gunicorn"), 60, self,
                 "the portal to answer")
        print(f"started in {time.monotonic() - t:.1f} s")

    def stop(self, timeout=45):
        """Ctrl-C: SIGINT to the script's process group, as a terminal sends it."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                for pid in self.pids().values():  # do not leave servers behind a failed test
                    os.kill(pid, signal.SIGKILL)
                os.killpg(self.proc.pid, signal.SIGKILL)
                raise
        self.log.close()

    def processes(self) -> dict[str, dict]:
        """supervisord's view (XML-RPC on its socket, what supervisorctl asks): name → pid, state."""
        from xmlrpc.client import ServerProxy

        from supervisor.xmlrpc import SupervisorTransport

        transport = SupervisorTransport(None, None, f"unix://{self.state / 'supervisor.sock'}")
        try:
            infos = ServerProxy("http://127.0.0.1", transport=transport).supervisor.getAllProcessInfo()
        except OSError:
            return {}
        return {info["name"]: info for info in infos}

    def pid(self, name: str) -> int:
        info = self.processes().get(name)
        return info["pid"] if info and info["statename"] == "RUNNING" else 0

    def pids(self) -> dict[str, int]:
        infos = self.processes()
        return {name: infos[name]["pid"] for name in ("postgres", "redis", "worker", "beat", "gunicorn")}

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/login/", timeout=3) as response:
                return response.status == 200
        except OSError:
            return False

    def tail(self) -> str:
        logs = [self.state.parent / "serve.out", *sorted((self.state / "log").glob("*.log"))]
        return "\n".join(f"--- {p.name}\n" + p.read_text(errors="replace")[-1500:] for p in logs if p.exists())

    def redis(self, *args) -> str:
        port = read_env(self.state / "env")["REDIS_URL"].rsplit(":", 1)[1].split("/")[0]
        done = subprocess.run(["redis-cli", "-p", port, *args], capture_output=True, text=True, timeout=10)
        return done.stdout.strip()


def read_env(path: Path) -> dict[str, str]:
    lines = path.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


def wait_for(check, seconds, stack, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        if stack.proc.poll() is not None:
            pytest.fail(f"serve.sh ended (exit {stack.proc.returncode}) waiting for {what}\n{stack.tail()}")
        time.sleep(0.3)
    pytest.fail(f"timed out waiting for {what}\n{stack.tail()}")


@pytest.fixture
def stack():
    tmp = Path(tempfile.mkdtemp(prefix="yiwang-serve-"))
    tmp.chmod(0o755)  # PostgreSQL runs as its own user when the tests run as root
    s = Stack(tmp / "serve", free_port())
    yield s
    s.stop()
    subprocess.run(["rm", "-rf", str(tmp)], check=False)


def test_each_process_is_restarted_alone_and_state_is_kept(stack):
    started = time.monotonic()
    stack.start()
    env_file = stack.state / "env"
    env_before = env_file.read_bytes()
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    env = read_env(env_file)
    assert len(env["SECRET_KEY"]) >= 50 and "insecure" not in env["SECRET_KEY"]
    assert env["PII_ENCRYPTION_KEYS"].startswith("1:") and len(env["PII_HASH_KEY"]) == 44
    assert env["DEBUG"] == "0" and env["DEMO_MODE"] == "0"

    # The Celery worker killed outright: it alone comes back; the portal and the servers never stopped.
    # (Once it has written its banner: a worker killed while still importing would leave no trace in its log.)
    worker_log = stack.state / "log" / "worker.log"
    wait_for(lambda: worker_log.exists() and worker_log.read_text().count("[tasks]") >= 1, 60, stack,
             "the worker's first start in its log")
    before = stack.pids()
    assert all(before.values()), stack.processes()
    os.kill(before["worker"], signal.SIGKILL)
    wait_for(lambda: stack.pid("worker") not in (0, before["worker"]), 30, stack, "the worker to be started again")
    assert stack.answers()
    print(f"worker back at {time.monotonic() - started:.1f} s")
    after = stack.pids()
    assert {k: after[k] for k in ("postgres", "redis", "beat", "gunicorn")} == \
        {k: before[k] for k in ("postgres", "redis", "beat", "gunicorn")}
    assert stack.processes()["worker"]["statename"] == "RUNNING"

    # gunicorn's master killed outright: a new master serves again; the others never stopped.
    os.kill(after["gunicorn"], signal.SIGKILL)
    wait_for(lambda: stack.pid("gunicorn") not in (0, after["gunicorn"]) and stack.answers(), 45, stack,
             "gunicorn to be started again and answer")
    print(f"gunicorn back at {time.monotonic() - started:.1f} s")
    again = stack.pids()
    assert {k: again[k] for k in ("postgres", "redis", "beat", "worker")} == \
        {k: after[k] for k in ("postgres", "redis", "beat", "worker")}

    # Queued work survives a restart of the whole stack: Redis appends to its AOF.
    wait_for(lambda: worker_log.read_text().count("[tasks]") >= 2, 60, stack, "the worker's second start in its log")
    assert stack.redis("SET", "yiwang-serve-test", "kept") == "OK"
    stack.stop()
    assert stack.proc.returncode in (0, 130), stack.tail()
    print(f"stopped at {time.monotonic() - started:.1f} s")
    for name, pid in again.items():
        assert not Path(f"/proc/{pid}").exists(), f"{name} ({pid}) outlived Ctrl-C"

    stack.start()
    assert env_file.read_bytes() == env_before, "the env file (ports, SECRET_KEY, PII keys) changed at a restart"
    assert stack.redis("GET", "yiwang-serve-test") == "kept"
    aof = list((stack.state / "redis" / "appendonlydir").glob("*.aof"))
    assert aof and sum(p.stat().st_size for p in aof) > 0
    # Logs are appended, not overwritten: supervisord's and the worker's show the worker's three starts.
    assert (stack.state / "log" / "supervisord.log").read_text().count("spawned: 'worker'") == 3
    wait_for(lambda: worker_log.read_text().count("[tasks]") >= 3, 60, stack, "the worker's third start in its log")
    print(f"serve supervision test: {time.monotonic() - started:.0f} s")
