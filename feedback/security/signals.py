"""Security events into the audit chain: logins, failures, lockouts, permission and password changes.

Signals are used here because the events come from Django and django-axes (their login views, the admin,
the ORM), not from the portal's services; recording is all they do (STYLE.md: no business rules here).
"""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_save, pre_save
from django.dispatch import receiver

from feedback.security.events import record_event

User = get_user_model()


# The session keys of the idle (30 min) and absolute (12 h) limits, read by
# zhitongche.middleware.SessionLimitsMiddleware; written here at login.
IDLE_KEY = "_zt_seen"
LOGIN_KEY = "_zt_login_at"


@receiver(user_logged_in, dispatch_uid="zt_audit_login")
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        import time

        now = time.time()
        request.session[LOGIN_KEY] = now  # the 12-hour limit counts from this login
        request.session[IDLE_KEY] = now
    record_event("login", request=request, user=user, object_type="user", object_id=user.pk)


@receiver(user_logged_out, dispatch_uid="zt_audit_logout")
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        record_event("logout", request=request, user=user, object_type="user", object_id=user.pk)


@receiver(user_login_failed, dispatch_uid="zt_audit_login_failed")
def _login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    # Only the username: Django already replaces the password in ``credentials`` by stars.
    record_event(
        "login_failed", request=request, user=None, detail={"username": str(credentials.get("username", ""))[:150]}
    )


@receiver(user_locked_out, dispatch_uid="zt_audit_lockout")
def _locked_out(sender: Any, request: Any, username: Any, ip_address: Any, **kwargs: Any) -> None:
    record_event(
        "lockout",
        request=request,
        user=None,
        detail={"username": str(username or "")[:150], "ip": str(ip_address or "")},
    )


_WATCHED = ("is_superuser", "is_staff", "is_active")


@receiver(pre_save, sender=User, dispatch_uid="zt_audit_user_pre_save")
def _remember_old(sender: Any, instance: Any, **kwargs: Any) -> None:
    if instance.pk is None:
        instance._zt_old = None
        return
    instance._zt_old = sender.objects.filter(pk=instance.pk).values(*_WATCHED, "password").first()


@receiver(post_save, sender=User, dispatch_uid="zt_audit_user_post_save")
def _user_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    old = getattr(instance, "_zt_old", None)
    if created or old is None:
        if instance.is_superuser or instance.is_staff:
            record_event(
                "permission_change",
                object_type="user",
                object_id=instance.pk,
                detail={
                    "username": instance.get_username(),
                    "created": True,
                    **{f: getattr(instance, f) for f in _WATCHED},
                },
            )
        return
    changed = {f: [old[f], getattr(instance, f)] for f in _WATCHED if old[f] != getattr(instance, f)}
    if changed:
        record_event(
            "permission_change",
            object_type="user",
            object_id=instance.pk,
            detail={"username": instance.get_username(), "changed": changed},
        )
    if old["password"] != instance.password and old["password"]:
        # last_login updates also save the user; only a new hash is a password change.
        record_event(
            "password_changed",
            user=None,
            object_type="user",
            object_id=instance.pk,
            detail={"username": instance.get_username()},
        )


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="zt_audit_groups")
def _groups_changed(sender: Any, instance: Any, action: str, pk_set: Any, reverse: bool, **kwargs: Any) -> None:
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if action != "post_clear" and not pk_set:
        return  # groups.add() of groups already held: nothing changed (seed_demo reruns this way)
    if reverse:  # group.user_set.add(...): instance is the group
        detail = {"group": str(instance), "users": sorted(pk_set or []), "action": action}
        record_event("permission_change", object_type="group", object_id=instance.pk, detail=detail)
    else:
        detail = {"username": instance.get_username(), "groups": sorted(pk_set or []), "action": action}
        record_event("permission_change", object_type="user", object_id=instance.pk, detail=detail)
