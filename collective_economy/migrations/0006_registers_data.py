"""The decision gate's trigger, the fixed-asset role of account 151, the four shipped project categories
and the case category an overdue contract payment is chased under."""

from django.db import migrations

from collective_economy.triggers import migration_install_gate, migration_uninstall_gate

CATEGORIES = [("suburban-services", "城郊服务"), ("ecological-economy", "生态经济"),
              ("specialty-agriculture", "特优农业"), ("culture-tourism-health", "文旅康养")]
ARREARS_CATEGORY = ("dispute-collective-arrears", "集体合同欠款")


def forwards(apps, schema_editor):
    ChartAccount = apps.get_model("collective_economy", "ChartAccount")
    ChartAccount.objects.filter(chart__code__in=["2004", "2023"], code="151").update(role="fixed_assets")
    ProjectCategory = apps.get_model("collective_economy", "ProjectCategory")
    for order, (code, name) in enumerate(CATEGORIES, start=1):
        ProjectCategory.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})
    CaseCategory = apps.get_model("grid", "CaseCategory")
    parent = CaseCategory.objects.filter(code="dispute").first()
    if parent is not None:
        CaseCategory.objects.get_or_create(code=ARREARS_CATEGORY[0], defaults={
            "name": ARREARS_CATEGORY[1], "parent": parent, "sort_order": 90})


class Migration(migrations.Migration):
    dependencies = [("collective_economy", "0005_registers")]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.RunPython(migration_install_gate, migration_uninstall_gate),
    ]
