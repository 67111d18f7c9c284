"""Telecom group-product catalog, tariffs and the quote engine (issue #3)."""
