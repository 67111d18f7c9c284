"""Pinyin keys for search, so that a CM typing ``zgyd`` on a phone finds 中国移动."""

from __future__ import annotations

from functools import lru_cache

from pypinyin import lazy_pinyin


@lru_cache(maxsize=65536)
def pinyin_keys(text: str) -> tuple[str, str]:
    """Return ``(initials, full)`` in lower case: 中国移动 -> ("zgyd", "zhongguoyidong").

    Latin letters and digits are kept as they are, so "7天便利店" gives "7tbld".
    """
    if not text:
        return "", ""
    syllables = lazy_pinyin(text, errors=lambda chars: list(chars))
    initials = "".join(s[0] for s in syllables if s and s.strip()).lower()
    full = "".join(s for s in syllables if s.strip()).lower()
    return initials, full
