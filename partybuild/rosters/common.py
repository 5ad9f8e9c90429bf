"""What the party-building rosters share: how a community, a member and an organisation are named in a file."""

import datetime

from django.utils.translation import gettext_lazy as _

from governance.models import Level, OrgUnit
from governance.rosters import PERSONAL_ID, Column, Ref
from partybuild.models import PartyMember, PartyOrganization
from partybuild.services.common import NOT_A_COMMUNITY


def member_columns() -> list[Column]:
    """The party member by his ID number (part of a key), then his name (export only)."""
    return [
        Column("member", _("Party member ID number"),
               Ref(PartyMember, "resident__id_number", _("party member"), upper=True, select_related=("resident",),
                   description=_("ID number of the party member")),
               required=True, personal=PERSONAL_ID, export="member__resident__id_number",
               example="51342419800101001X", width=22),
        Column("member_name", _("Party member"), export="member__resident__name", width=12),
    ]


def community_columns() -> list[Column]:
    """The village or community by its code, then its name (export only)."""
    return [
        Column("community", _("Community code"),
               Ref(OrgUnit, "code", _("org unit"), description=_("Code of the village or community")),
               required=True, example="513424102201", width=16),
        Column("community_name", _("Community"), export="community__name", width=20),
    ]


def organization_ref(in_file: bool, qualifier: str):
    return Ref(
        PartyOrganization, "name", _("party organisation"), select_related=("org_unit",), in_file=in_file,
        qualifier=(qualifier, "org_unit__code"),
        description=_("Name of the party organisation"),
    )


def check_community(row, instance, job):
    if instance.community.level != Level.VILLAGE:
        job.error(row, job.header_of("community"), NOT_A_COMMUNITY)


def hhmm(value: datetime.time) -> str:
    return value.strftime("%H:%M")
