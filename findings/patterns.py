"""Shell-style globs (``team-*``) as anchored regular expressions both databases understand."""

import re


def glob_to_regex(pattern: str) -> str:
    parts = []
    for char in pattern:
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return "^" + "".join(parts) + "$"


def matches_everything(pattern: str) -> bool:
    """``*``, ``**``...: a pattern that narrows nothing."""
    return bool(pattern) and set(pattern) == {"*"}
