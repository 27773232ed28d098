"""A copy of a store kept as evidence: on media nobody may write, as an investigator keeps it."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def locked_away(store: str, tmp_path: Path) -> Iterator[str]:
    """A copy of a SQLite store on media nobody may write: the file and its folder read-only
    (and, for root, whom permissions do not stop, immutable)."""
    folder = tmp_path / "evidence"
    folder.mkdir()
    copy = folder / "ledger.db"
    copy.write_bytes(Path(store).read_bytes())  # the store was closed: its log is empty
    copy.chmod(0o444)
    folder.chmod(0o555)
    locked = os.geteuid() == 0
    if locked:
        subprocess.run(["chattr", "+i", str(copy), str(folder)], check=True)
    try:
        yield str(copy)
    finally:
        if locked:
            subprocess.run(["chattr", "-i", str(copy), str(folder)], check=True)
        folder.chmod(0o755)
