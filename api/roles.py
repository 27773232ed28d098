"""The roles an API caller can hold.

Apart from the token table (``api.tokens``) so that ``ledger --help`` lists them without
loading it.
"""

from __future__ import annotations

from typing import Literal, get_args

Role = Literal["municipality", "immigration_service", "investigator", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
