"""Commands this app adds to ``kejing`` (see ``kejing/cli.py``)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction, bench: argparse._SubParsersAction) -> None:
    """Add this app's subcommands to the ``kejing`` parser; ``bench`` is the subparsers of ``kejing bench``."""
