"""Tobacco monthly cycle: sales ledger, three-source demand forecasting, consolidation, balancing (issue #4)."""
