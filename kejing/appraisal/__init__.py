"""Appraisal (考核): how a customer manager is recruited, graded into three levels of three tiers, and paid.

The rules are computed by the pure-Python package :mod:`kejing.appraisal.engine`, which reads its numbers from
the ``corps`` policy file of each industry and never imports Django, so the same arithmetic serves the web pages,
the ``kejing grade`` / ``kejing pay`` commands (:mod:`kejing.appraisal.cli`) and the tests. See docs/appraisal.md.
"""
