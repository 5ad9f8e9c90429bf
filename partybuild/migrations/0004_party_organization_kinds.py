"""Kinds of party organisation become rows an administrator keeps: today's five kinds and rules, plus the
city district's (街道党工委 → 社区党委 → 网格党支部 → 楼栋党小组). Organisations keep their kind's code."""

from django.db import migrations, models

from partybuild.kinds import seed_kinds


def seed(apps, schema_editor):
    Kind = apps.get_model("partybuild", "PartyOrganizationKind")  # noqa: N806 - a model class
    Organization = apps.get_model("partybuild", "PartyOrganization")  # noqa: N806
    seed_kinds(Kind)
    # Every stored organisation stays valid: a kind or a nesting in use that the defaults lack is kept.
    kinds = {kind.code: kind for kind in Kind.objects.all()}
    for code in Organization.objects.exclude(kind__in=list(kinds)).values_list("kind", flat=True).distinct():
        kinds[code] = Kind.objects.create(code=code, name=code, sort_order=1000)
    pairs = Organization.objects.filter(parent__isnull=False).values_list("kind", "parent__kind").distinct()
    for child, parent in pairs:
        kinds[child].parents.add(kinds[parent])


class Migration(migrations.Migration):

    dependencies = [
        ("partybuild", "0003_wish_events"),
    ]

    operations = [
        migrations.CreateModel(
            name="PartyOrganizationKind",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("code", models.SlugField(help_text="Letters, digits, - and _; stored with every organisation of this kind, fixed once used.", max_length=20, unique=True, verbose_name="code")),  # noqa: E501
                ("name", models.CharField(max_length=40, unique=True, verbose_name="name")),
                ("aliases", models.CharField(blank=True, help_text="Other names an Excel import accepts for this kind, separated by 、 (e.g. 楼栋党小组、庭院党小组)", max_length=200, verbose_name="other names")),  # noqa: E501
                ("sort_order", models.PositiveSmallIntegerField(default=0, verbose_name="order")),
            ],
            options={
                "verbose_name": "kind of party organisation",
                "verbose_name_plural": "kinds of party organisation",
                "ordering": ["sort_order", "code"],
            },
        ),
        migrations.AddField(
            model_name="partyorganizationkind",
            name="parents",
            field=models.ManyToManyField(blank=True, help_text="The kinds an organisation of this kind may be placed under; any kind may be a top organisation.", related_name="allowed_children", to="partybuild.partyorganizationkind", verbose_name="may sit under"),  # noqa: E501
        ),
        migrations.AlterField(
            model_name="partyorganization",
            name="kind",
            field=models.CharField(max_length=20, verbose_name="kind"),
        ),
        migrations.AddConstraint(
            model_name="partyorganization",
            constraint=models.CheckConstraint(condition=models.Q(("kind", ""), _negated=True),
                                              name="party_organization_has_kind"),
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
