import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("channels_net", "0002_public_portal"),
        ("feedback", "0005_objections"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The old free-text chair ("县委书记") is the chair's title; the chair becomes a user.
        migrations.RenameField(model_name="forum", old_name="chair", new_name="chair_title"),
        migrations.AlterField(
            model_name="forum", name="chair_title",
            field=models.CharField(blank=True, help_text="如：县委书记；县长代为主持", max_length=50,
                                   verbose_name="主持人职务"),
        ),
        migrations.AddField(
            model_name="forum", name="chair",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="主持领导"),
        ),
        migrations.AddField(
            model_name="forum", name="leaders",
            field=models.ManyToManyField(blank=True, related_name="net_forums_attended",
                                         to=settings.AUTH_USER_MODEL, verbose_name="出席领导"),
        ),
        migrations.AddField(
            model_name="forum", name="departments_present",
            field=models.ManyToManyField(blank=True, related_name="net_forums_attended",
                                         to="feedback.department", verbose_name="到会部门负责人"),
        ),
        migrations.CreateModel(
            name="NetRepresentative",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("handle", models.CharField(max_length=100, verbose_name="网名")),
                ("real_name", models.CharField(blank=True, max_length=50, verbose_name="真实姓名")),
                ("phone", models.CharField(blank=True, max_length=32, verbose_name="联系电话")),
                ("forum", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                            related_name="representatives", to="channels_net.forum",
                                            verbose_name="座谈会")),
            ],
            options={"verbose_name": "网民代表", "verbose_name_plural": "网民代表", "ordering": ["id"]},
        ),
        migrations.AddConstraint(
            model_name="netrepresentative",
            constraint=models.UniqueConstraint(fields=("forum", "handle"), name="one_representative_handle_per_forum"),
        ),
    ]
