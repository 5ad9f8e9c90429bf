from django.db import migrations


def load(apps, schema_editor):
    from collective_economy.services.charts import charts_load_shipped

    charts_load_shipped(apps=apps)


class Migration(migrations.Migration):
    dependencies = [("collective_economy", "0002_ledger_triggers")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
