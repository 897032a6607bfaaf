from django.db import migrations, models

# docs/ledger-format.md's short names (简称); load_reference_data sets them on a new database.
SHORT_NAMES = {
    "jyj": "教育局", "wjj": "卫健局", "zjj": "住建局", "jtj": "交通运输局", "rsj": "人社局", "sthj": "生态环境局",
    "nyj": "农业农村局", "slj": "水利局", "zrj": "自然资源局", "scj": "市场监管局", "gaj": "公安局", "mzj": "民政局",
    "cgj": "城管局", "fgj": "发改局", "gxj": "工信局", "wxb": "网信办", "jkq": "经开区", "xfj": "信访局",
}


def fill(apps, schema_editor):
    Department = apps.get_model("feedback", "Department")
    for code, names in SHORT_NAMES.items():
        Department.objects.filter(code=code, short_names="").update(short_names=names)


class Migration(migrations.Migration):
    dependencies = [("feedback", "0101_rate_limit_hits")]

    operations = [
        migrations.AddField(
            model_name="department",
            name="short_names",
            field=models.CharField(blank=True, help_text="台账中常用的简称，多个用“、”分隔，如：住建局、县住建局",
                                   max_length=200, verbose_name="简称"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
