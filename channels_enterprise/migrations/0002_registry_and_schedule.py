import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import channels_enterprise.models


def fill_months(apps, schema_editor):
    EnterpriseDay = apps.get_model("channels_enterprise", "EnterpriseDay")
    for day in EnterpriseDay.objects.all():
        day.month = day.held_on.replace(day=1)
        day.save(update_fields=["month"])


class Migration(migrations.Migration):

    dependencies = [
        ("channels_enterprise", "0001_initial"),
        ("feedback", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Enterprise",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=200, verbose_name="企业名称")),
                ("credit_code", models.CharField(max_length=18, unique=True,
                                                 validators=[channels_enterprise.models.validate_credit_code],
                                                 verbose_name="统一社会信用代码")),
                ("park", models.CharField(blank=True, max_length=100, verbose_name="所在园区")),
                ("sector", models.CharField(blank=True, max_length=100, verbose_name="行业")),
                ("contact_name", models.CharField(blank=True, max_length=50, verbose_name="联系人")),
                ("contact_phone", models.CharField(blank=True, max_length=32, verbose_name="联系电话")),
                ("active", models.BooleanField(default=True, verbose_name="在册")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="登记时间")),
            ],
            options={"verbose_name": "企业", "verbose_name_plural": "企业", "ordering": ["name", "id"],
                     "constraints": [models.CheckConstraint(
                         condition=models.Q(credit_code__regex="^[0-9A-HJ-NPQRTUWXY]{18}$"),
                         name="enterprise_credit_code_format")]},
        ),
        migrations.RenameField("enterpriseday", "leaders", "note"),
        migrations.AlterField("enterpriseday", "note",
                              models.CharField(blank=True, max_length=200, verbose_name="备注")),
        migrations.AddField("enterpriseday", "month",
                            models.DateField(null=True, verbose_name="所属月份")),
        migrations.RunPython(fill_months, migrations.RunPython.noop),
        migrations.AlterField("enterpriseday", "month",
                              models.DateField(help_text="该月1日；每月一次企业家日", unique=True,
                                               verbose_name="所属月份")),
        migrations.AddField("enterpriseday", "provisional", models.BooleanField(
            default=False, help_text="该年节假日安排尚未载入，按周一至周五推算，载入后自动重排", verbose_name="日期暂定")),
        migrations.AddField("enterpriseday", "notice_on", models.DateField(
            blank=True, help_text="活动前第3个工作日", null=True, verbose_name="通知日期")),
        migrations.AddField("enterpriseday", "noticed_at",
                            models.DateTimeField(blank=True, null=True, verbose_name="已通知时间")),
        migrations.AddField("enterpriseday", "leaders", models.ManyToManyField(
            blank=True, related_name="enterprise_days", to=settings.AUTH_USER_MODEL, verbose_name="带队县领导")),
        migrations.AddField("enterpriseday", "departments", models.ManyToManyField(
            blank=True, related_name="enterprise_days", to="feedback.department", verbose_name="随行部门")),
        migrations.AddField("enterpriseday", "enterprises", models.ManyToManyField(
            blank=True, related_name="enterprise_days", to="channels_enterprise.enterprise",
            verbose_name="走访企业")),
        migrations.AddConstraint("enterpriseday", models.CheckConstraint(
            condition=models.Q(("notice_on__isnull", True), ("notice_on__lt", models.F("held_on")), _connector="OR"),
            name="enterprise_day_notice_before")),
        migrations.RenameField("enterpriseintake", "enterprise", "enterprise_name"),
        migrations.AddField("enterpriseintake", "enterprise", models.ForeignKey(
            blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="intakes",
            to="channels_enterprise.enterprise", verbose_name="企业")),
        migrations.AlterModelOptions("enterpriseintake", {"verbose_name": "政企诉求来源",
                                                          "verbose_name_plural": "政企诉求来源"}),
        migrations.CreateModel(
            name="Consultation",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("held_on", models.DateField(verbose_name="会诊日期")),
                ("participants", models.JSONField(default=list, help_text="县长、局长、银行行长等，每人一项",
                                                  verbose_name="参加人员")),
                ("outcome", models.TextField(verbose_name="会诊结果")),
                ("recorded_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="记录时间")),
                ("intake", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT,
                                             related_name="consultations",
                                             to="channels_enterprise.enterpriseintake", verbose_name="企业问题")),
                ("recorded_by", models.ForeignKey(blank=True, null=True,
                                                  on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                                  to=settings.AUTH_USER_MODEL, verbose_name="记录人")),
            ],
            options={"verbose_name": "三长会诊", "verbose_name_plural": "三长会诊", "ordering": ["-held_on", "-id"]},
        ),
    ]
