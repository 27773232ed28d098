"""A store loaded by a test module and served by `ledger serve` at a free loopback port, with a
token for each role: the shared setting of the API and read-path tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner

from cli.main import cli

ROLE_TOKENS = {
    "municipality": ("municipality", "101"),
    "immigration_service": ("immigration_service", None),
    "investigator": ("investigator", None),
    "admin": ("admin", None),
}


def make_token(db: str, role: str, municipality: str | None = None) -> dict[str, Any]:
    args = ["--db", db, "token", "create", "--json", "--role", role]
    if municipality is not None:
        args += ["--municipality", municipality]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    issued: dict[str, Any] = json.loads(result.output)
    return issued


@dataclass
class Served:
    db: str
    base: str
    log: Path
    tokens: dict[str, dict[str, Any]]

    def client(self, role: str | None) -> httpx.Client:
        headers = {} if role is None else {"Authorization": f"Bearer {self.secret(role)}"}
        return httpx.Client(base_url=self.base, headers=headers, timeout=30)

    def secret(self, role: str) -> str:
        return str(self.tokens[role]["secret"])

    def municipality(self, code: str) -> httpx.Client:
        """A client holding a token of municipality ``code`` (made on first use)."""
        key = f"municipality:{code}"
        if key not in self.tokens:
            self.tokens[key] = make_token(self.db, "municipality", code)
        return self.client(key)
