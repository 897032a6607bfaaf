"""The security audit chain (issue 15, part 4): its table, and on PostgreSQL triggers refusing UPDATE,
DELETE and TRUNCATE from every client.

Row triggers do not fire on TRUNCATE, hence the statement-level one. TRUNCATE is let through only for a
superuser: a superuser can disable any trigger anyway, and the test suite's flush (run as the database
superuser) truncates every table. The portal's own role is never a superuser nor the owner
(docs/operations.md, "Two database roles").
"""

from django.db import migrations, models

CREATE = """
CREATE OR REPLACE FUNCTION feedback_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' AND (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION '安全审计记录只能追加，不能修改、删除或清空 (feedback_auditevent is append-only: %)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER feedback_audit_no_update_delete
    BEFORE UPDATE OR DELETE ON feedback_auditevent
    FOR EACH ROW EXECUTE FUNCTION feedback_audit_append_only();
CREATE TRIGGER feedback_audit_no_truncate
    BEFORE TRUNCATE ON feedback_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION feedback_audit_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS feedback_audit_no_truncate ON feedback_auditevent;
DROP TRIGGER IF EXISTS feedback_audit_no_update_delete ON feedback_auditevent;
DROP FUNCTION IF EXISTS feedback_audit_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)  # the SQL has a literal %


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("feedback", "0009_deadline_step_queue")]
    operations = [
        migrations.CreateModel(
            name="AuditEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("at", models.DateTimeField(db_index=True, verbose_name="时间")),
                ("actor_id", models.BigIntegerField(blank=True, null=True, verbose_name="用户 ID")),
                ("actor", models.CharField(blank=True, max_length=150, verbose_name="用户")),
                ("ip", models.GenericIPAddressField(blank=True, null=True, verbose_name="IP 地址")),
                ("request_id", models.CharField(blank=True, max_length=32, verbose_name="请求编号")),
                ("action", models.CharField(db_index=True, max_length=64, verbose_name="事件")),
                ("object_type", models.CharField(blank=True, max_length=64, verbose_name="对象类型")),
                ("object_id", models.CharField(blank=True, max_length=64, verbose_name="对象编号")),
                ("detail", models.JSONField(default=dict, verbose_name="详情")),
                ("algorithm", models.CharField(default="sha256", max_length=16, verbose_name="哈希算法")),
                ("prev_hash", models.CharField(max_length=64, verbose_name="上一条哈希")),
                ("row_hash", models.CharField(max_length=64, unique=True, verbose_name="本条哈希")),
            ],
            options={"verbose_name": "安全审计记录", "verbose_name_plural": "安全审计记录", "ordering": ["id"]},
        ),
        migrations.RunPython(forwards, backwards),
    ]
