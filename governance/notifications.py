"""In-app notifications (站内通知): sending them (the service every app calls), the user's list,
and marking one or all of them read.

A user sees and marks only his own notifications (another user's is a 404, whatever his role);
the navbar's unread count comes from the ``portal`` context processor.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from governance.models import Notification
from governance.portal.views import is_portal_url

PAGE_SIZE = 30


def notification_send(*, users, text: str, url: str = "", key: str = "") -> int:
    """One notification per user (each user once per ``key``, however often this is called)."""
    text = str(text)[:300]
    rows = [Notification(user=user, text=text, url=url, key=key) for user in {user.pk: user for user in users}.values()]
    if not rows:
        return 0
    before = Notification.objects.filter(key=key).count() if key else 0
    Notification.objects.bulk_create(rows, ignore_conflicts=bool(key))
    return (Notification.objects.filter(key=key).count() - before) if key else len(rows)


def notification_mark_read(*, user, ids=None) -> int:
    """Mark the user's notifications read (``ids`` of them, or all); returns how many changed."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())


@login_required
@require_GET
def notification_list(request):
    """The user's notifications, newest first; ``?unread=1`` lists the unread ones only."""
    notifications = Notification.objects.filter(user=request.user)
    unread_only = request.GET.get("unread") == "1"
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    paginator = Paginator(notifications.order_by("-created_at", "-id"), PAGE_SIZE)
    # get_page() turns a bad or too large ?page= into the first or last page, never a 404.
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "governance/notification_list.html", {
        "page_obj": page,
        "notifications": page.object_list,
        "page_range": paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        "unread_only": unread_only,
    })


@login_required
@require_POST
def notification_read(request, pk: int | None = None):
    """Mark one notification read and go where it points (a link of ours only), or mark all read."""
    back = request.POST.get("next", "")
    back = back if is_portal_url(request, back) else reverse("org:notifications")
    if pk is None:
        count = notification_mark_read(user=request.user)
        if count:
            messages.success(request, _("All notifications are marked read."))
        return redirect(back)
    notification = get_object_or_404(Notification, pk=pk, user=request.user)
    notification_mark_read(user=request.user, ids=[notification.pk])
    if request.POST.get("stay") != "1" and is_portal_url(request, notification.url):
        return redirect(notification.url)
    return redirect(back)
