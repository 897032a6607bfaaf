"""Optional virus scan of uploads by ClamAV's daemon (issue 15, part 6), on in production.

Set ``CLAMD_ADDRESS`` to ``host:port`` or a Unix socket path (docs/production.env.example). The file's
bytes are streamed with clamd's INSTREAM command; "FOUND" refuses the upload. If clamd cannot be reached
the upload is refused too (``CLAMD_FAIL_CLOSED``, default on): a scan that silently did not happen would
be worse than a clerk retrying in a minute. No address: no scan (development, the test suite).
"""

from __future__ import annotations

import logging
import socket
import struct

from django.conf import settings

log = logging.getLogger("zhitongche.security")

CHUNK = 64 * 1024
TIMEOUT_SECONDS = 30

MSG_INFECTED = "文件未通过病毒扫描（{name}），不能接收。"
MSG_UNAVAILABLE = "病毒扫描服务暂时不可用，请稍后再上传。"


class ScanRefused(Exception):
    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def _connect(address: str) -> socket.socket:
    if address.startswith("/"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(TIMEOUT_SECONDS)
        sock.connect(address)
        return sock
    host, _, port = address.rpartition(":")
    return socket.create_connection((host, int(port)), timeout=TIMEOUT_SECONDS)


def scan_bytes(data: bytes) -> None:
    """Raise ScanRefused if clamd finds something (or cannot be asked and the scan is required)."""
    address = getattr(settings, "CLAMD_ADDRESS", "")
    if not address:
        return
    try:
        with _connect(address) as sock:
            sock.sendall(b"zINSTREAM\0")
            for start in range(0, len(data), CHUNK):
                chunk = data[start : start + CHUNK]
                sock.sendall(struct.pack(">I", len(chunk)) + chunk)
            sock.sendall(struct.pack(">I", 0))
            answer = b""
            while not answer.endswith(b"\0"):
                part = sock.recv(4096)
                if not part:
                    break
                answer += part
    except OSError:
        log.error("clamd at %s unreachable", address, exc_info=True)
        if getattr(settings, "CLAMD_FAIL_CLOSED", True):
            raise ScanRefused(MSG_UNAVAILABLE) from None
        return
    text = answer.rstrip(b"\0").decode(errors="replace")
    if text.endswith("FOUND"):
        name = text.split(":", 1)[-1].removesuffix("FOUND").strip()
        log.warning("clamd found %s in an upload", name)
        raise ScanRefused(MSG_INFECTED.format(name=name))
    if not text.endswith("OK"):
        log.error("clamd answered %r", text)
        if getattr(settings, "CLAMD_FAIL_CLOSED", True):
            raise ScanRefused(MSG_UNAVAILABLE)
