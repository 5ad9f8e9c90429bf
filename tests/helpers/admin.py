"""Reading the Django admin's answers."""

from django.urls import reverse


def listed(response) -> list:
    """The objects of a change list page."""
    assert response.status_code == 200, response.content[:500]
    return list(response.context["cl"].result_list)


def refused(response) -> bool:
    """The admin's answer for an object it cannot find: back to the index, nothing shown."""
    return response.status_code == 302 and response.url == reverse("admin:index")
