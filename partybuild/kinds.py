"""The kinds of party organisation every portal starts with (editable in the admin), and the kinds each may
sit under: the chain of a county (党委 → 党总支/党支部 → 网格党支部 → 党小组) and of a city district
(党委 → 街道党工委 → 社区党委 → 网格党支部 → 楼栋党小组)."""

# code, name, other names an import accepts, the kinds it may sit under
DEFAULT_KINDS = [
    ("committee", "党委", "", ["committee", "street_committee"]),
    ("street_committee", "街道党工委", "党工委、街道工委", ["committee"]),
    ("community_committee", "社区党委", "", ["committee", "street_committee"]),
    ("general_branch", "党总支", "党总支部", ["committee", "street_committee", "community_committee"]),
    ("branch", "党支部", "", ["committee", "street_committee", "community_committee", "general_branch"]),
    ("grid_branch", "网格党支部", "", ["community_committee", "branch"]),
    ("group", "党小组", "楼栋党小组、庭院党小组、楼栋/庭院党小组", ["branch", "grid_branch"]),
]


def seed_kinds(Kind) -> None:  # noqa: N803 - the model class, real or historical
    """Create the default kinds that are missing and their rules (idempotent).

    A rule is added only where its child or its parent kind is created now, so that a rule an
    administrator removed between two existing kinds stays removed. The migration passes its
    historical model; the demo and the tests the real one.
    """
    existing = set(Kind.objects.values_list("code", flat=True))
    names = set(Kind.objects.values_list("name", flat=True))
    created = set()
    for order, (code, name, aliases, _parents) in enumerate(DEFAULT_KINDS, start=1):
        if code in existing or name in names:
            continue
        Kind.objects.create(code=code, name=name, aliases=aliases, sort_order=order * 10)
        created.add(code)
    kinds = {kind.code: kind for kind in Kind.objects.all()}
    for code, _name, _aliases, parents in DEFAULT_KINDS:
        for parent in parents:
            if (code in created or parent in created) and code in kinds and parent in kinds:
                kinds[code].parents.add(kinds[parent])
