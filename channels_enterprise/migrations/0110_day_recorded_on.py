from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("channels_enterprise", "0105_consultation_planned"),
    ]

    operations = [
        migrations.AddField(
            model_name="enterpriseday",
            name="recorded_on",
            field=models.DateField(
                blank=True, help_text="企业家日举行后才录入的，录入当天的日期", null=True, verbose_name="补录日期"
            ),
        ),
    ]
