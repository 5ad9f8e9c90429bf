"""The deployment files under deploy/ (docs/deploy.md) are read by the real tools, as a server would.

nginx -t on the site, Redis started briefly on its configuration, PostgreSQL parsing its snippet,
systemd-analyze verify on the units (a structural check where systemd is not installed). A tool
missing here skips its test with the reason; under CI (CI=true) a missing tool fails it: .ci/run
installs them.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.helpers.markers import on_postgres
from tests.helpers.processes import ROOT, free_port

DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("yiwang-*.*"))


def tool(name: str, *extra: str) -> str:
    """The tool's path, or a skip (a failure under CI)."""
    found = shutil.which(name) or next((p for p in extra if Path(p).exists()), None)
    if not found:
        message = f"{name} is not installed (apt-get install {name.split('-')[0]}); .ci/run installs it"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


def test_the_nginx_site_passes_nginx_t(tmp_path):
    nginx = tool("nginx", "/usr/sbin/nginx")
    openssl = tool("openssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=yiwang.test"], check=True, capture_output=True, timeout=60)
    site = (DEPLOY / "nginx-yiwang.conf").read_text()
    site = site.replace("/etc/ssl/yiwang/fullchain.pem", str(cert)).replace("/etc/ssl/yiwang/privkey.pem", str(key))
    site = site.replace("/var/log/nginx/", f"{tmp_path}/")
    (tmp_path / "site.conf").write_text(site)
    temp_paths = "\n".join(f"    {kind}_temp_path {tmp_path}/{kind};" for kind in
                           ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n    access_log off;\n{temp_paths}\n    include {tmp_path}/site.conf;\n}}\n")
    done = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-e",
                           str(tmp_path / "error.log")], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "syntax is ok" in done.stderr and "test is successful" in done.stderr


def test_nginx_takes_the_largest_upload_the_portal_takes():
    from django.conf import settings

    from governance.admin import ADMIN_MAX_UPLOAD
    from governance.rosters.admin import MAX_UPLOAD

    site = (DEPLOY / "nginx-yiwang.conf").read_text()
    [size] = re.findall(r"^\s*client_max_body_size\s+(\d+)m;", site, re.M)
    largest = max(MAX_UPLOAD, ADMIN_MAX_UPLOAD, settings.CASE_ATTACHMENT_MAX_BYTES)
    # Above the largest file by the form around it, not a door left open to anything.
    assert largest < int(size) * 2**20 <= largest + 4 * 2**20


def test_redis_starts_on_its_configuration_with_an_append_only_file(tmp_path):
    redis_server = tool("redis-server")
    port = free_port()
    # The file as it is; only where it listens and writes is moved to the test's own.
    proc = subprocess.Popen([redis_server, str(DEPLOY / "redis.conf"), "--port", str(port), "--bind", "127.0.0.1",
                             "--dir", str(tmp_path), "--logfile", "", "--supervised", "no"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        settings = {}
        for _ in range(100):
            if proc.poll() is not None:
                pytest.fail(f"redis-server refused deploy/redis.conf:\n{proc.stdout.read()}")
            done = subprocess.run(["redis-cli", "-p", str(port), "CONFIG", "GET", "*"], capture_output=True,
                                  text=True, timeout=10)
            if done.returncode == 0 and done.stdout.strip():
                lines = done.stdout.splitlines()
                settings = dict(zip(lines[::2], lines[1::2], strict=False))
                break
            time.sleep(0.1)
        assert settings.get("appendonly") == "yes" and settings.get("appendfsync") == "everysec"
        assert settings.get("maxmemory-policy") == "noeviction"  # the broker's queue is never evicted
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.skipif(not on_postgres, reason="runs the PostgreSQL binaries: in make test's servers run only")
def test_postgresql_accepts_the_settings_snippet(tmp_path):
    pg_bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    if not pg_bins:
        tool("postgres")
    bin_dir = pg_bins[-1].parent
    as_pg = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
    work = Path(tempfile.mkdtemp(prefix="yiwang-pgconf-"))
    try:
        work.chmod(0o777)
        snippet = work / "yiwang.conf"
        shutil.copy(DEPLOY / "postgresql.conf", snippet)
        snippet.chmod(0o644)
        subprocess.run([*as_pg, str(bin_dir / "initdb"), "-D", str(work / "pg"), "-A", "trust"], check=True,
                       capture_output=True, timeout=120)
        with open(work / "pg" / "postgresql.conf", "a") as conf:
            conf.write(f"\ninclude '{snippet}'\n")
        for name, expected in (("shared_buffers", "256MB"), ("jit", "off"), ("random_page_cost", "1.1")):
            done = subprocess.run([*as_pg, str(bin_dir / "postgres"), "-D", str(work / "pg"), "-C", name],
                                  capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr
            if name == "shared_buffers":  # reported in 8 kB pages
                assert int(done.stdout) * 8 // 1024 == 2048
            else:
                assert done.stdout.strip() == expected
    finally:
        shutil.rmtree(work, ignore_errors=True)


SECTIONS = {"Unit", "Service", "Install", "Timer"}


def unit_problems(path: Path) -> list[str]:
    """What systemd would reject or ignore, without systemd: unknown sections, lines outside a section,
    a service without an absolute ExecStart, a unit without its Description."""
    problems, section, keys = [], None, {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            if section not in SECTIONS:
                problems.append(f"{path.name}:{number}: unknown section [{section}]")
        elif "=" not in line or section is None:
            problems.append(f"{path.name}:{number}: not KEY=VALUE in a section: {line}")
        else:
            keys[f"{section}.{line.split('=', 1)[0].strip()}"] = line.split("=", 1)[1].strip()
    if "Unit.Description" not in keys:
        problems.append(f"{path.name}: no Description")
    if path.suffix == ".service" and not keys.get("Service.ExecStart", "").startswith("/"):
        problems.append(f"{path.name}: ExecStart is not an absolute path")
    if path.suffix == ".timer" and not keys.get("Timer.OnCalendar"):
        problems.append(f"{path.name}: no OnCalendar")
    return problems


def test_the_systemd_units_are_valid(tmp_path):
    assert {p.name for p in UNITS} >= {"yiwang-gunicorn.service", "yiwang-worker.service", "yiwang-beat.service",
                                       "yiwang-backup.service", "yiwang-backup.timer"}
    assert sum(1 for p in UNITS if " beat " in p.read_text()) == 1, "one beat, in one unit"
    assert [problem for unit in UNITS for problem in unit_problems(unit)] == []
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        return  # the structural check above is what can be done without systemd
    # The units as installed on this checkout: the venv's programs and this folder for /srv/yiwang.
    venv_bin = str(Path(sys.executable).parent)
    for unit in UNITS:
        text = unit.read_text().replace("/srv/yiwang/.venv/bin", venv_bin).replace("/srv/yiwang", str(ROOT))
        (tmp_path / unit.name).write_text(text)
    done = subprocess.run([analyze, "verify", *(str(tmp_path / u.name) for u in UNITS)], capture_output=True,
                          text=True, timeout=60)
    ours = [line for line in done.stderr.splitlines() if "yiwang-" in line]
    assert done.returncode == 0 and ours == [], done.stderr


def test_the_environment_template_names_only_real_settings_and_holds_no_secret():
    settings_source = (ROOT / "governance" / "settings.py").read_text()
    read = set(re.findall(r'env_\w+\(\s*"([A-Z_0-9]+)"', settings_source))
    # Read by the personal-data encryption (issue 16 §5), landed by another branch.
    read |= {"PII_ENCRYPTION_KEYS", "PII_HASH_KEY"}
    template = dict(line.split("=", 1) for line in (DEPLOY / "yiwang.env.example").read_text().splitlines()
                    if line and not line.startswith("#"))
    assert set(template) - read == set()
    assert template["SECRET_KEY"] == "" and template["PII_HASH_KEY"] == "" and template["PII_ENCRYPTION_KEYS"] == "1:"
    assert template["DEBUG"] == "0" and template["DEMO_MODE"] == "0"


def test_docs_deploy_shows_every_deploy_file_and_only_those():
    doc = (ROOT / "docs" / "deploy.md").read_text()
    named = set(re.findall(r"deploy/[\w./-]+\w(?![-*\w.])", doc))  # globs (yiwang-*.service) aside
    present = {str(p.relative_to(ROOT)) for p in DEPLOY.rglob("*") if p.is_file()}
    assert present - named == set(), "files under deploy/ that docs/deploy.md does not show"
    missing = {n for n in named if not (ROOT / n).is_dir()} - present
    assert missing == set(), "docs/deploy.md names files that do not exist"
