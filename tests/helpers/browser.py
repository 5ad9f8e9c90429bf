"""Steps the browser tests (tests/e2e/) share."""

from tests.helpers.people import PASSWORD


def log_in(page, username: str, password: str = PASSWORD):
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
