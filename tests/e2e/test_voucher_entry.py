"""A voucher from the keyboard only, in a browser: the bookkeeper types account codes and names and
picks them with Enter, types an amount and lets "=" balance the voucher, sees the difference reach
0.00, saves and sends it; the township officer reviews it; the bookkeeper posts it and the page shows
记-1. The entry page and the voucher page fit a 390px phone. Screenshots: ledger-*.png."""

import re

import pytest
from django.utils import timezone

from collective_economy.models import Voucher, VoucherStatus
from governance.roles import user_sync_permissions
from tests.helpers.browser import fit_problems, log_in, phone_context
from tests.helpers.ledger import new_book

pytestmark = pytest.mark.e2e
expect = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed").expect

WIDE = {"width": 1440, "height": 900}


def switch_user(page, username: str, url: str):
    page.context.clear_cookies()
    log_in(page, username)
    page.wait_for_url(re.compile(r"/$"))
    page.goto(url)


def test_a_voucher_entered_from_the_keyboard_is_reviewed_and_posted(page, shoot, browser, live_server,
                                                                     screenshot_dir, county, clerk_a, village_a):
    for user in (clerk_a, village_a):
        user_sync_permissions(user)
    # The entry page opens on today's date: the book keeps this year.
    book = new_book(county.villages[0], year=timezone.localdate().year)
    page.set_viewport_size(WIDE)
    log_in(page, "village_a")
    page.wait_for_url(re.compile(r"/$"))
    # The rail leads to the books; a bookkeeper with one book lands on it.
    page.locator("#portal-sidebar a[href='/ledger/']").click()
    page.wait_for_url(re.compile(rf"/ledger/books/{book.pk}/$"))
    shoot("ledger-book-1440")
    page.locator("#voucher-new").click()
    page.wait_for_url(re.compile(r"/vouchers/new/$"))

    # The date has the focus: Enter moves to the attachments, then to the first line.
    expect(page.locator("#id_date")).to_be_focused()
    keyboard = page.keyboard
    keyboard.press("Enter")
    keyboard.type("2")
    keyboard.press("Enter")
    first = page.locator("tr.voucher-line").nth(0)
    expect(first.locator(".line-summary")).to_be_focused()
    keyboard.type("收到鱼塘承包费")
    keyboard.press("Tab")
    keyboard.type("102")
    expect(first.locator(".account-suggest li.active")).to_contain_text("102 银行存款")
    keyboard.press("Enter")
    expect(first.locator(".line-account-text")).to_have_value("102 银行存款")
    expect(first.locator(".line-debit")).to_be_focused()
    keyboard.type("12000")
    expect(page.locator("#total-difference")).to_have_text("12,000.00")
    expect(page.locator("#voucher-save")).to_be_disabled()
    # Enter after a debit goes to the next line; its empty summary takes the one above.
    keyboard.press("Enter")
    second = page.locator("tr.voucher-line").nth(1)
    expect(second.locator(".line-summary")).to_be_focused()
    expect(second.locator(".line-summary")).to_have_value("收到鱼塘承包费")
    keyboard.press("Tab")
    keyboard.type("经营收入")
    expect(second.locator(".account-suggest li.active")).to_contain_text("501 经营收入")
    keyboard.press("Enter")
    expect(second.locator(".line-debit")).to_be_focused()
    keyboard.press("Tab")
    keyboard.press("=")
    expect(second.locator(".line-credit")).to_have_value("12000.00")
    expect(page.locator("#total-difference")).to_have_text("0.00")
    expect(page.locator("#total-debit")).to_have_text("12,000.00")
    expect(page.locator("#total-credit")).to_have_text("12,000.00")
    expect(page.locator("#voucher-save")).to_be_enabled()
    shoot("ledger-entry-1440")

    # 保存并送审, from the keyboard.
    page.locator("#voucher-save-submit").focus()
    keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/ledger/vouchers/\d+/$"))
    voucher = Voucher.objects.get(book=book)
    assert voucher.status == VoucherStatus.SUBMITTED and voucher.attachments == 2
    expect(page.locator("#amount-in-words")).to_have_text("壹万贰仟元整")

    # The township officer reviews it.
    url = f"/ledger/vouchers/{voucher.pk}/"
    switch_user(page, "township_a", url)
    page.locator("button[data-step=review]").click()
    page.wait_for_load_state()
    expect(page.locator(".alert-success")).to_be_visible()
    voucher.refresh_from_db()
    assert voucher.status == VoucherStatus.REVIEWED

    # The bookkeeper posts it: it is 记-1.
    switch_user(page, "village_a", url)
    page.locator("button[data-step=post]").click()
    page.wait_for_load_state()
    expect(page.locator("#voucher-number")).to_have_text("记-1")
    expect(page.locator("button[data-step=reverse]")).to_be_visible()
    expect(page.locator("#voucher-edit")).to_have_count(0)
    shoot("ledger-voucher-1440")
    page.goto(f"/ledger/books/{book.pk}/vouchers/")
    expect(page.locator("#voucher-table")).to_contain_text("记-1")
    shoot("ledger-vouchers-1440")

    # On a phone: nothing wider than the screen, on the entry page and the voucher page.
    context = phone_context(browser, live_server)
    try:
        phone = context.new_page()
        log_in(phone, "village_a")
        phone.wait_for_url(re.compile(r"/$"))
        failures = []
        books = f"/ledger/books/{book.pk}/"
        for name, address in (("entry", f"{books}vouchers/new/"), ("voucher", url), ("book", books),
                              ("vouchers", f"{books}vouchers/")):
            phone.goto(address)
            failures += [f"{name}: {problem}" for problem in fit_problems(phone)]
            phone.screenshot(path=str(screenshot_dir / f"ledger-{name}-390.png"), full_page=True)
    finally:
        context.close()
    assert not failures, "\n".join(failures)
