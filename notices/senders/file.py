"""The demo's sender: each message as a file `<dir>/<channel>/<idempotency key>.txt` (mode 0600,
as it holds a personal link). Writing the same key again rewrites the same file: idempotent."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

from notices.senders.base import Accepted, Outgoing

FILE_MODE: Final = 0o600
DIR_MODE: Final = 0o700


class FileSender:
    name = "file"

    def __init__(self, directory: Path, rate_per_s: float = 0.0) -> None:
        self.directory = directory
        self.rate_per_s = rate_per_s

    def path_of(self, outgoing: Outgoing) -> Path:
        return self.directory / outgoing.channel.value / f"{outgoing.idem_key}.txt"

    async def send(self, outgoing: Outgoing) -> Accepted:
        path = self.path_of(outgoing)
        path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        message = outgoing.message
        text = f"To: {outgoing.address}\nSubject: {message.subject}\n"
        if message.sms_type:
            text += f"Type: {message.sms_type}\n"
        text += f"\n{message.text}\n"
        temporary = path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
        return Accepted(str(path), final=True)

    async def close(self) -> None:
        return None
