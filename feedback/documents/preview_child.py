"""The preview renderer as a child process: ``python -m feedback.documents.preview_child TYPE``.

Reads the stored file on stdin, writes the PNG on stdout, exits 3 if the file cannot be rendered. It
caps its own address space and CPU time before touching the file, so a scan that would make PDFium or
Pillow allocate gigabytes kills this process, never a web or Celery worker. No Django here: it imports
only the renderers of feedback.documents.previews, which need Pillow and pypdfium2.
"""

from __future__ import annotations

import resource
import sys


def limit(memory_bytes: int, cpu_seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    # No core file of a process that held a citizen's letter.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def main(argv: list[str]) -> int:
    content_type, memory, cpu = argv[1], int(argv[2]), int(argv[3])
    limit(memory, cpu)
    from feedback.documents import previews

    data = sys.stdin.buffer.read()
    try:
        if content_type == "application/pdf":
            image = previews._render_pdf(data)
        elif content_type in ("image/jpeg", "image/png"):
            image = previews._render_image(data)
        else:
            return 3
        sys.stdout.buffer.write(previews._png(image))
    except MemoryError:
        return 4
    except Exception:
        # Renderers raise many unrelated types on a damaged file; the parent only needs "no preview".
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
