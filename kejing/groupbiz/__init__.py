"""Telecom group customers (EC): group users, VSUBs, accounts, members, numbering rules and the bill run (issue #3)."""
