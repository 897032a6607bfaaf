"""Handing work to the Celery worker without importing the task layer.

Tasks are interfaces (``feedback.tasks``): they import the services they call. A service that
queues a task after its commit looks the task up by its registered name instead, so the import
arrows point one way (``.importlinter``). The object returned is the very task
``feedback.tasks`` defines: ``delay`` and a test's ``monkeypatch`` of it behave alike.
"""

from __future__ import annotations

from celery import Task, current_app


def task(name: str) -> Task:
    """The task ``feedback.tasks.<name>``."""
    return current_app.tasks[f"feedback.tasks.{name}"]
