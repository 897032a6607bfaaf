from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("channels_citizen", "0110_offline_capture"),
    ]

    operations = [
        migrations.AddField(
            model_name="nomeetingweek",
            name="recorded_on",
            field=models.DateField(
                blank=True, help_text="无会周结束后才录入的，录入当天的日期", null=True, verbose_name="补录日期"
            ),
        ),
        migrations.AddField(
            model_name="visit",
            name="recorded_on",
            field=models.DateField(
                blank=True, help_text="接访活动结束后才录入的，录入当天的日期", null=True, verbose_name="补录日期"
            ),
        ),
    ]
