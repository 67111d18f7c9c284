"""Kejing (客经): the working platform of a customer-manager corps (客户经理制)."""

__version__ = "0.1.0"

DEFAULT_DEMO_PASSWORD = "kejing2026"
