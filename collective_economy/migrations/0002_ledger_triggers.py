from django.db import migrations

from collective_economy.triggers import migration_install, migration_uninstall


class Migration(migrations.Migration):
    dependencies = [("collective_economy", "0001_initial")]

    operations = [migrations.RunPython(migration_install, migration_uninstall)]
