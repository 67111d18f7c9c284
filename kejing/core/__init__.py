"""Shared mechanisms: policy data, audit, scoping helpers, tabular import/export, pinyin, jobs."""
