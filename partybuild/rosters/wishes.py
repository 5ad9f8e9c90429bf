"""Roster of the micro-wishes: export only (a wish moves through its states by the services alone)."""

from django.utils.translation import gettext_lazy as _

from governance.rosters import Choice, Column, RosterSpec, register
from partybuild.models import Wish, WishCategory, WishState


class WishRoster(RosterSpec):
    kind = "wishes"
    label = Wish._meta.verbose_name_plural
    model = Wish
    importable = False
    export_order = ("-posted_at", "-id")
    columns = [
        Column("id", _("Micro-wish ID"), export="id", width=8),
        Column("title", _("Title"), export="title", width=24),
        Column("category", _("Category"), export="category", display=Choice(WishCategory), width=12),
        Column("state", _("State"), export="state", display=Choice(WishState), width=8),
        Column("community", _("Community"), export="community__name", width=20),
        Column("household", _("Household number"), export="household__number", width=24),
        Column("resident", _("Resident"), export="resident__name", width=12),
        Column("posted_at", _("Posted at"), export="posted_at", width=16),
        Column("dispatched_to", _("Dispatched to"), export="dispatched_to__resident__name", width=12),
        Column("taken_by", _("Taken by"), export="taken_by__resident__name", width=12),
        Column("done_at", _("Done at"), export="done_at", width=16),
        Column("result", _("Result"), export="result", width=30),
    ]


register(WishRoster())
