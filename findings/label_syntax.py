"""Kubernetes label syntax, so that an exception's label selector can match something.

A key is ``[prefix/]name``: the optional prefix a DNS subdomain (at most 253 characters), the name at
most 63 characters of letters, digits, ``-``, ``_`` and ``.``, starting and ending with a letter or
digit. A value is empty or follows the name's rules.
"""

import re

_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$")
_PREFIX = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def label_problem(key: str, value: str) -> str | None:
    """Why ``key=value`` can never be a Kubernetes label, or None."""
    prefix, slash, name = key.rpartition("/")
    if slash and (len(prefix) > 253 or not _PREFIX.match(prefix)):
        return f"“{key}” is not a label key (its prefix must be a DNS name such as app.kubernetes.io)"
    if len(name) > 63 or not _NAME.match(name):
        return (
            f"“{key}” is not a label key (at most 63 letters, digits, -, _ or ., "
            "starting and ending with a letter or digit)"
        )
    if value and (len(value) > 63 or not _NAME.match(value)):
        return (
            f"“{value}” is not a label value (at most 63 letters, digits, -, _ or ., "
            "starting and ending with a letter or digit)"
        )
    return None
