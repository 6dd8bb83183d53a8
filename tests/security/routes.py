"""Every route of Rampart's URL resolver, under a readable key such as ``api/v1/clusters/{pk}/``.

A route and its DRF ``.format`` twin share one key; Django's admin is the one prefix ``admin/*``.
"""

import re

from django.urls import URLResolver, get_resolver

ADMIN_PREFIX = "admin/*"
_PARAM = re.compile(r"\(\?P<(\w+)>[^()]*\)")
_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")
_DOT_TWIN = "\\.{format}/?"  # clusters/{pk}\.{format}/? beside clusters/{pk}/
_ROOT_TWIN = "/{format}"  # api/v1/{format} beside api/v1/


def _key(route: str) -> tuple[str, str | None]:
    """The key of a route and, for a .format twin, how the twin is spelled ("dot" or "suffix")."""
    key = _PARAM.sub(r"{\1}", route)
    key = _CONVERTER.sub(r"{\1}", key)
    key = key.replace("^", "").replace("$", "").replace("[\\s\\S]*", "{anything}")
    if key.endswith(_DOT_TWIN):
        return key[: -len(_DOT_TWIN)] + "/", "dot"
    if key.endswith(_ROOT_TWIN):
        return key[: -len("{format}")], "suffix"
    return key, None


def resolver_routes() -> dict[str, str | None]:
    """Every route: key -> how its .format twin is spelled (None: it has none)."""
    routes: dict[str, str | None] = {}

    def walk(patterns, prefix):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.app_name == "admin":
                    routes[ADMIN_PREFIX] = None  # Django's own admin: one prefix
                    continue
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                key, twin = _key(prefix + str(pattern.pattern))
                routes[key] = routes.get(key) or twin

    walk(get_resolver().url_patterns, "")
    return routes


def fill(key: str, values: dict, twin: str | None = None) -> str:
    """The URL of a route key with its parameters filled in (and as its .json twin if asked)."""
    path = "/" + key.format(**values)
    if twin == "dot":
        return path.removesuffix("/") + ".json"
    if twin == "suffix":
        return path + ".json"
    return path


def parameters(key: str) -> list[str]:
    return re.findall(r"\{(\w+)\}", key)
