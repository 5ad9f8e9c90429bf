"""Seed the case taxonomy and the deadlines by colour (grid/taxonomy.py)."""

from django.db import migrations

from grid.taxonomy import seed_taxonomy


def seed(apps, schema_editor):
    seed_taxonomy(apps.get_model("grid", "CaseCategory"), apps.get_model("grid", "ColourDeadline"))


class Migration(migrations.Migration):
    dependencies = [("grid", "0002_cases")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
