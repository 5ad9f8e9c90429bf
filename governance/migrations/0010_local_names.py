import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('governance', '0009_period_values'),
    ]

    operations = [
        migrations.CreateModel(
            name='LocalName',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('vocabulary', models.CharField(max_length=24, verbose_name='term list')),
                ('code', models.CharField(max_length=40, verbose_name='term')),
                ('name', models.CharField(max_length=40, verbose_name='local name')),
                ('unit', models.ForeignKey(db_index=False, limit_choices_to={'level__in': ('county', 'township')}, on_delete=django.db.models.deletion.CASCADE, related_name='local_names', to='governance.orgunit', verbose_name='county or township')),
            ],
            options={
                'verbose_name': 'local name',
                'verbose_name_plural': 'local names',
                'ordering': ['unit__code', 'vocabulary', 'code'],
                'constraints': [models.UniqueConstraint(fields=('unit', 'vocabulary', 'code'), name='local_name_once'), models.UniqueConstraint(fields=('unit', 'vocabulary', 'name'), name='local_name_unambiguous')],
            },
        ),
    ]
