"""What the party-building rosters share: how a community, a member, an organisation and its kind are
named in a file."""

import datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from governance.models import Level, OrgUnit
from governance.rosters import PERSONAL_ID, Column, Parser, Ref
from partybuild.models import PartyMember, PartyOrganization, PartyOrganizationKind
from partybuild.services.common import NOT_A_COMMUNITY

KIND_NOT_FOUND = _("“%(value)s” is not a kind of party organisation. The kinds are: %(kinds)s.")


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


def _fold(text) -> str:
    if isinstance(text, float) and text.is_integer():
        text = int(text)
    return "".join(str(text).split()).casefold()


class OrganizationKind(Parser):
    """A kind of party organisation by its name, one of its other names or its code.

    The kinds are rows an administrator keeps (``PartyOrganizationKind``): they are read once
    per import, when the column's cells are about to be parsed.
    """

    empty = ""

    def __call__(self, value):
        return self.bind()(value)

    def bind(self):
        kinds = list(PartyOrganizationKind.objects.all())
        found: dict[str, str] = {}
        for kind in kinds:
            for text in (kind.name, kind.code, *kind.alias_list()):
                found.setdefault(_fold(text), kind.code)
        names = "、".join(kind.name for kind in kinds)

        def parse(value):
            code = found.get(_fold(value))
            if code is None:
                raise ValidationError(gettext(KIND_NOT_FOUND) % {"value": str(value).strip(), "kinds": names})
            return code

        return parse

    def describe(self):
        kinds = PartyOrganizationKind.objects.all()
        listed = "、".join(
            f"{kind.name}（{'、'.join(kind.alias_list())}）" if kind.aliases else kind.name for kind in kinds
        )
        return gettext("One of the kinds (other names in brackets): %(kinds)s") % {"kinds": listed}


def kind_name(code: str) -> str:
    """The name of the kind ``code`` (the code itself when there is no such kind)."""
    return PartyOrganizationKind.objects.filter(code=code).values_list("name", flat=True).first() or code
