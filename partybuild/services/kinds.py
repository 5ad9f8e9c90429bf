"""Kinds of party organisation and the kinds each may sit under: configuration an administrator keeps.

Every change holds the organisation tree's lock (``tree_write_lock(PartyOrganization.tree_lock_key)``),
which every write of an organisation holds as well: a rule cannot be removed between an
organisation's check and its save, so the stored organisations always fit the rules. A rule
that stored organisations use, a kind they are of, and its code (stored with them) cannot go.
"""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from governance.tree import tree_write_lock
from partybuild.models import PartyOrganization, PartyOrganizationKind
from partybuild.services.common import invalid, set_fields

KIND_RULE_IN_USE = _(
    "Organisations of this kind sit under a %(parent)s (%(count)d of them): move them before removing %(parent)s."
)
KIND_IN_USE = _("Organisations of the kind %(kind)s exist (%(count)d of them): it cannot be deleted.")
KIND_CODE_IN_USE = _("Organisations are stored with the code “%(code)s”: it cannot change.")
KIND_NAME_TAKEN = _("“%(name)s” already names the kind %(kind)s.")

KIND_FIELDS = {"code", "name", "aliases", "sort_order"}


def _fold(text: str) -> str:
    return "".join(str(text).split()).casefold()


def organization_kind_check(*, kind: PartyOrganizationKind, parents: Iterable[PartyOrganizationKind]) -> None:
    """The rules of a new or changed kind beyond its own fields.

    Its code is fixed once organisations use it; the kinds it may sit under keep every pair
    that stored organisations use; its name and other names name no other kind (an import
    would not know which one is meant).
    """
    stored = PartyOrganizationKind.objects.filter(pk=kind.pk).values_list("code", flat=True).first()
    if stored is not None and stored != kind.code and PartyOrganization.objects.filter(kind=stored).exists():
        raise invalid("code", KIND_CODE_IN_USE, code=stored)
    if stored is not None:
        allowed = [parent.code for parent in parents]
        used = (PartyOrganization.objects.filter(kind=stored, parent__isnull=False)
                .exclude(parent__kind__in=allowed).values("parent__kind").annotate(n=Count("pk"))
                .order_by("parent__kind").first())
        if used is not None:
            name = PartyOrganizationKind.objects.filter(code=used["parent__kind"]).values_list("name", flat=True)
            raise invalid("parents", KIND_RULE_IN_USE, count=used["n"], parent=name.first() or used["parent__kind"])
    mine = {_fold(kind.code), _fold(kind.name), *(_fold(alias) for alias in kind.alias_list())}
    for other in PartyOrganizationKind.objects.exclude(pk=kind.pk):
        taken = {_fold(other.code), _fold(other.name), *(_fold(alias) for alias in other.alias_list())}
        clash = mine & taken
        if clash:
            field = "name" if _fold(kind.name) in clash else "code" if _fold(kind.code) in clash else "aliases"
            shown = next(text for text in (kind.name, kind.code, *kind.alias_list()) if _fold(text) in clash)
            raise invalid(field, KIND_NAME_TAKEN, name=shown, kind=other.name)


def organization_kind_create(
    *, code: str, name: str, aliases: str = "", sort_order: int = 0, parents: Iterable[PartyOrganizationKind] = ()
) -> PartyOrganizationKind:
    """A new kind of party organisation, placed under ``parents`` (the kinds it may sit under)."""
    parents = list(parents)
    with tree_write_lock(PartyOrganization.tree_lock_key):
        kind = PartyOrganizationKind(code=code.strip(), name=name.strip(), aliases=aliases.strip(),
                                     sort_order=sort_order)
        kind.full_clean()
        organization_kind_check(kind=kind, parents=parents)
        kind.save()
        kind.parents.set(parents)
        return kind


def organization_kind_update(
    *, kind: PartyOrganizationKind, parents: Iterable[PartyOrganizationKind] | None = None, **fields
) -> PartyOrganizationKind:
    """Change a kind's fields and, given ``parents``, the kinds it may sit under (all of them)."""
    with tree_write_lock(PartyOrganization.tree_lock_key):
        fresh = PartyOrganizationKind.objects.select_for_update().get(pk=kind.pk)
        parents = list(fresh.parents.all()) if parents is None else list(parents)
        set_fields(fresh, fields, KIND_FIELDS)
        fresh.full_clean()
        organization_kind_check(kind=fresh, parents=parents)
        fresh.save()
        fresh.parents.set(parents)
        return fresh


def organization_kind_delete(*, kind: PartyOrganizationKind) -> None:
    """Delete a kind no organisation is of (its rules go with it)."""
    with tree_write_lock(PartyOrganization.tree_lock_key):
        count = PartyOrganization.objects.filter(kind=kind.code).count()
        if count:
            raise ValidationError(KIND_IN_USE, params={"count": count, "kind": kind.name})
        kind.delete()
