"""Browser libraries installed from the npm registry, served by the portal itself (never a CDN).

``package.json`` / ``package-lock.json`` pin them; ``bin/_venv.sh`` runs ``npm ci`` into
``node_modules/`` (git-ignored). This staticfiles finder exposes only the built files the pages
use — not the 50 MB of sources, maps and ESM builds next to them — so ``collectstatic`` and
whitenoise serve them like the portal's own static files. When npm was not available at set-up
the files are simply missing and the pages that use them say so (see
docs/decisions/0005-echarts-assets.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.finders import BaseFinder
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.files.storage import FileSystemStorage

ECHARTS = "vendor/echarts/echarts.common.min.js"

# static path prefix → (folder under node_modules/, files in it)
PACKAGES = {
    "vendor/echarts": [("echarts/dist", ["echarts.common.min.js"]), ("echarts", ["LICENSE", "NOTICE"])],
}


def node_modules() -> Path:
    return Path(settings.BASE_DIR) / "node_modules"


class NodeModulesFinder(BaseFinder):
    def _storages(self) -> Iterator[tuple[str, FileSystemStorage, list[str]]]:
        for prefix, folders in PACKAGES.items():
            for folder, names in folders:
                storage = FileSystemStorage(location=node_modules() / folder)
                storage.prefix = prefix  # collectstatic and whitenoise put the files under it
                yield prefix, storage, names

    def check(self, **kwargs: Any) -> list[Any]:
        return []

    def find(self, path: str, find_all: bool = False, **kwargs: Any) -> str | list[str]:
        find_all = find_all or kwargs.get("all", False)
        matches = []
        for prefix, storage, names in self._storages():
            for name in names:
                if path == f"{prefix}/{name}" and storage.exists(name):
                    if not find_all:
                        return storage.path(name)
                    matches.append(storage.path(name))
        return matches  # [] when not found, like Django's finders (finders.find relies on it)

    def list(self, ignore_patterns: Any) -> Iterator[tuple[str, FileSystemStorage]]:
        for _prefix, storage, names in self._storages():
            for name in names:
                if storage.exists(name):
                    yield name, storage


def available(path: str) -> bool:
    """Whether the portal can serve this static file (installed, or already collected)."""
    return bool(finders.find(path)) or staticfiles_storage.exists(path)
