"""Policy data files: the rules and catalogs of each industry, kept as versioned TOML files.

Why files: every number the manual fixes (tiers, order cycles, field authority, later tariffs and pay tables)
belongs to the business, not to the code. A policy file lives in ``kejing/policies/<industry>/<name>.toml`` and
starts with a ``[meta]`` table::

    [meta]
    version = "2026.1"          # a new version is a new row in the database; old rounds keep theirs
    effective_from = 2026-01-01
    title = "..."

This module is plain Python (no Django): engines and tests read policies straight from the files, while the web
application loads them into the ``PolicyDocument`` table so that an administrator can see and amend them.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_POLICY_DIR = Path(__file__).resolve().parent.parent / "policies"
INDUSTRIES = ("tobacco", "telecom", "bank")


class PolicyError(ValueError):
    """A policy file is missing or malformed; the message names the file and the key."""


@dataclass(frozen=True)
class PolicyFile:
    industry: str
    name: str
    version: str
    effective_from: dt.date
    title: str
    data: dict[str, Any]
    path: Path


def _parse(path: Path, industry: str) -> PolicyFile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: {exc}") from exc
    meta = data.get("meta")
    if not isinstance(meta, dict):
        raise PolicyError(f"{path}: missing [meta] table")
    for key in ("version", "effective_from", "title"):
        if key not in meta:
            raise PolicyError(f"{path}: [meta] lacks '{key}'")
    eff = meta["effective_from"]
    if not isinstance(eff, dt.date):
        raise PolicyError(f"{path}: [meta].effective_from must be a date such as 2026-01-01")
    return PolicyFile(industry, path.stem, str(meta["version"]), eff, str(meta["title"]), data, path)


def policy_files(base: Path | None = None) -> list[PolicyFile]:
    """Every policy file under ``base`` (default: the package's own ``policies`` folder), parsed."""
    base = Path(base or DEFAULT_POLICY_DIR)
    out = []
    for industry in INDUSTRIES:
        for path in sorted((base / industry).glob("*.toml")):
            out.append(_parse(path, industry))
    return out


def load_policy(industry: str, name: str, base: Path | None = None) -> dict[str, Any]:
    """The data of one policy file, e.g. ``load_policy("tobacco", "customers")``."""
    if industry not in INDUSTRIES:
        raise PolicyError(f"unknown industry '{industry}' (expected one of {', '.join(INDUSTRIES)})")
    path = Path(base or DEFAULT_POLICY_DIR) / industry / f"{name}.toml"
    if not path.exists():
        raise PolicyError(f"no policy file {path}")
    return _parse(path, industry).data
