"""Locust users for ``bench/load_cases.py``: township clerks taking cases round the whole loop.

Each simulated user logs in as one clerk of the list that ``load_cases.py`` wrote (``LOAD_CLERKS``,
a JSON file) and then, again and again, does what the clerk does in the browser: opens the "new
case" form, reports a case in a grid of his township, and moves it through every step of the loop
on the case's page — accept (三事分流: a major matter), dispatch to his township with himself as the
assignee, take and start work, resolve, verify, record the reporter's rating, close. Each step is
the page's real form: a POST with the CSRF token read from the page, answered by a redirect to the
case's page, which the browser then loads (timed as "case page"); a step that the service refused
shows its message there in red, which counts the step as failed. Between two clicks the clerk
waits ``LOAD_THINK`` seconds (default 0.5-1.5 s).

Every case that a report created (a 302 to its page) is written to ``LOAD_CREATED`` (JSON lines:
the case id and the form's token) for ``load_cases.py`` to look up in the database afterwards.
"""

import itertools
import json
import os
import random
import re
import threading
import uuid

from load_steps import STEP_NAMES
from locust import HttpUser, between, events, task

CLERKS = json.loads(open(os.environ["LOAD_CLERKS"], encoding="utf-8").read())
_next_clerk = itertools.count()
_created_lock = threading.Lock()
_created_file = open(os.environ["LOAD_CREATED"], "a", encoding="utf-8")  # noqa: SIM115 (closed at quit)

THINK = [float(x) for x in os.environ.get("LOAD_THINK", "0.5,1.5").split(",")]

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TOKEN = re.compile(r'name="token" value="([0-9a-f-]{36})"')
CASE_URL = re.compile(r"^/grid/cases/(\d+)/$")
ERROR_ALERT = re.compile(r'class="alert alert-danger[^"]*"[^>]*>\s*(.*?)\s*<button', re.S)
FIELD_ERROR = re.compile(r'class="invalid-feedback[^"]*"[^>]*>\s*(.*?)\s*</', re.S)

# The loop's steps after the report: (action, the form's fields besides the CSRF token).
STEPS = [
    ("accept", lambda clerk: {"accept-triage": "major", "accept-colour": "green"}),
    ("dispatch", lambda clerk: {"dispatch-unit": clerk["township"], "dispatch-assignee": clerk["id"],
                                "dispatch-comment": "请于期限内处理"}),
    ("take", lambda clerk: {"take-start": "True"}),
    ("resolve", lambda clerk: {"resolve-result": "已现场处理，群众认可。"}),
    ("verify", lambda clerk: {"verify-comment": "核查属实"}),
    ("rate", lambda clerk: {"rate-rating": "satisfied"}),
    ("close", lambda clerk: {"close-comment": ""}),
]


@events.quitting.add_listener
def _close_created(environment, **kwargs):
    _created_file.close()


class Clerk(HttpUser):
    wait_time = between(*THINK)

    def on_start(self):
        self.clerk = CLERKS[next(_next_clerk) % len(CLERKS)]
        page = self.client.get("/login/", name="0 login page")
        with self.client.post(
            "/login/", name="0 login",
            data={"username": self.clerk["username"], "password": self.clerk["password"],
                  "csrfmiddlewaretoken": _csrf(page.text)},
            allow_redirects=False, catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"login refused ({response.status_code})")
                self.stop()

    @task
    def take_a_case_round_the_loop(self):
        clerk = self.clerk
        form = self.client.get("/grid/cases/new/", name="1 report: open the form")
        token = TOKEN.search(form.text)
        if form.status_code != 200 or token is None:
            return
        grid = random.choice(clerk["grids"])
        with self.client.post(
            "/grid/cases/new/", name="2 report: submit (上报)", allow_redirects=False, catch_response=True,
            data={
                "csrfmiddlewaretoken": _csrf(form.text), "token": token.group(1), "title": "路灯不亮，夜间出行不便",
                "category": clerk["category"], "grid": grid,
                "description": f"负载测试 {uuid.uuid4().hex[:8]}：村口路灯损坏。",
                "colour": "green", "source": "visit", "triage": "major", "reporter_name": "张三",
                "reporter_phone": "13800000000", "confirm": "on",
            },
        ) as response:
            match = CASE_URL.match(response.headers.get("Location", ""))
            if response.status_code != 302 or match is None:
                response.failure(f"no case created ({response.status_code}): {_errors(response.text)}")
                return
        case_id = int(match.group(1))
        with _created_lock:
            _created_file.write(json.dumps({"id": case_id, "token": token.group(1), "clerk": clerk["username"]}) + "\n")
            _created_file.flush()
        page = self._case_page(case_id)
        for action, fields in STEPS:
            if page is None:
                return
            self.wait()
            with self.client.post(
                f"/grid/cases/{case_id}/{action}/", name=STEP_NAMES[action], allow_redirects=False,
                catch_response=True, data={"csrfmiddlewaretoken": _csrf(page), **fields(clerk)},
            ) as response:
                if response.status_code != 302:
                    response.failure(f"{action}: {response.status_code}")
                    return
                page = self._case_page(case_id)
                refused = page is not None and ERROR_ALERT.search(page)
                if refused:
                    response.failure(f"{action} refused: {refused.group(1)[:200]}")
                    return
        self.wait()
        self.client.get("/grid/cases/", name="10 case list")

    def _case_page(self, case_id: int) -> str | None:
        response = self.client.get(f"/grid/cases/{case_id}/", name="case page (after each step)")
        return response.text if response.status_code == 200 else None


def _csrf(html: str) -> str:
    match = CSRF.search(html)
    return match.group(1) if match else ""


def _errors(html: str) -> str:
    return "; ".join(m.strip() for m in FIELD_ERROR.findall(html or ""))[:300] or (html or "")[:200]
