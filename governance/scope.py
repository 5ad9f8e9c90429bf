"""Org-subtree scope: the one rule that limits what a user sees.

A user sees the rows that hang inside the subtree of his home OrgUnit. The subtree is the
MPTT range (tree_id, lft..rght) of that unit, so the rule is one indexed range filter,
whatever the depth. Every scoped model names the path to its OrgUnit in
``org_scope_field`` and uses ``ScopedQuerySet``; web views, the API, the admin, form
choices and exports all call ``visible_to(user)`` and nothing else.

This module sits below the models (they build their managers on ``ScopedQuerySet``), so it
names no model: the unit model is the one the user's ``home_unit`` points at.
"""

from django.db import models


def unit_field(units: type[models.Model], unit_id: int, field: str) -> models.Subquery:
    """One field of the unit ``unit_id`` (a row of the model ``units``) as a scalar subquery,
    read by the statement that uses it."""
    return models.Subquery(units._default_manager.filter(pk=unit_id).order_by().values(field)[:1])


def scope_filter(user, path: str) -> models.Q | None:
    """The Q that limits rows whose OrgUnit sits at ``path`` to the user's subtree.

    Returns None when the user sees everything (a superuser without a home unit, i.e. the
    system operator), and a Q matching nothing when the user has no scope at all.

    The home unit's range is read by scalar subqueries inside the same statement rather
    than from a loaded instance: MPTT renumbers lft/rght on every insert, so a cached
    copy (a user object held by a long request, a task, a test) would silently scope to
    the wrong range. The database evaluates each subquery once (an InitPlan on
    PostgreSQL), and the outer range condition still uses the (tree_id, lft) index.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return models.Q(pk__in=[])
    unit_id = getattr(user, "home_unit_id", None)
    if unit_id is None:
        return None if user.is_superuser else models.Q(pk__in=[])
    units = user._meta.get_field("home_unit").related_model

    def home(field):
        return unit_field(units, unit_id, field)

    prefix = f"{path}__" if path else ""
    # lft alone bounds the subtree: a descendant's lft lies in [lft, rght).
    return models.Q(
        **{
            f"{prefix}tree_id": home("tree_id"),
            f"{prefix}lft__gte": home("lft"),
            f"{prefix}lft__lt": home("rght"),
        }
    )


class InUnits(models.Expression):
    """``column IN (SELECT id ...)``, written ``column = ANY(ARRAY(SELECT id ...))`` on PostgreSQL.

    PostgreSQL computes the array once (an InitPlan) and answers ``= ANY`` from the column's
    index, also under OR, where ``IN (subquery)`` would make it read every row. SQLite answers
    ``IN (subquery)`` from the index as it is.
    """

    conditional = True
    output_field = models.BooleanField()

    def __init__(self, column, units):
        super().__init__(output_field=models.BooleanField())
        self.column, self.units = column, units

    def get_source_expressions(self):
        return [self.column, self.units]

    def set_source_expressions(self, expressions):
        self.column, self.units = expressions

    def as_sql(self, compiler, connection, template="%(column)s IN %(units)s"):
        column, column_params = compiler.compile(self.column)
        units, units_params = compiler.compile(self.units)
        return template % {"column": column, "units": units}, (*column_params, *units_params)

    def as_postgresql(self, compiler, connection):
        return self.as_sql(compiler, connection, template="%(column)s = ANY(ARRAY%(units)s)")


class ScopedQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Rows inside the user's subtree.

        ``org_scope_field`` is one path to an OrgUnit, or a tuple of paths when a row belongs
        to two places at once (a volunteer service counts for the community where it was
        done and for the member's workplace branch; a case, where it is and with the unit
        handling it): then a row in either place is visible.

        Two range conditions on joined units, joined by OR, would make the database read every
        row; each path is instead matched against the ids of the units in the user's subtree
        (one subquery, ``InUnits``), which each path's own index answers.
        """
        paths = self.model.org_scope_field
        if isinstance(paths, str):
            condition = scope_filter(user, paths)
            return self.all() if condition is None else self.filter(condition)
        home = scope_filter(user, "")
        if home is None:
            return self.all()
        if getattr(user, "home_unit_id", None) is None or not user.is_active:
            return self.none()
        units = user._meta.get_field("home_unit").related_model
        subtree = models.Subquery(units._default_manager.filter(home).order_by().values("pk"))
        combined = models.Q()
        for path in paths:
            combined |= models.Q(InUnits(models.F(path or "pk"), subtree))
        return self.filter(combined)


def scoped_models():
    """Every installed model that is limited by org scope (used by checks and tests)."""
    from django.apps import apps

    return [
        model
        for model in apps.get_models()
        if hasattr(model, "org_scope_field") and hasattr(model._default_manager, "visible_to")
    ]
