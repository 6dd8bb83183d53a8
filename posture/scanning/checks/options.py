"""Every option a check reads, its default, and what it means: the one place they are defined.

Options arrive per cluster as ``CheckSettings.options`` (a plain dict from the
cluster's settings); checks read them through ``option(ctx, name)`` so that a
missing or malformed value falls back to the default instead of failing a scan.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Option:
    name: str
    default: object
    description: str
    kind: str = "names"  # what a value is: "days" (a whole number), "names" or "ports" (lists)


OPTIONS: dict[str, Option] = {
    option.name: option
    for option in (
        Option(
            "secret_max_age_days",
            90,
            "secret-not-rotated: a Secret whose data was last written more days ago than this is reported.",
            kind="days",
        ),
        Option(
            "pod_security_exempt_namespaces",
            ("kube-system", "kube-public", "kube-node-lease"),
            "namespace-no-pod-security: namespaces Kubernetes itself runs privileged components in, "
            "which are not required to enforce a Pod Security level.",
        ),
        Option(
            "extra_sensitive_env_names",
            (),
            "secret-in-env, secret-in-configmap: further substrings (case-insensitive) that mark an "
            "environment variable or ConfigMap key as holding a credential.",
        ),
        Option(
            "extra_database_images",
            (),
            "database-exposed: further image name substrings that identify a datastore.",
        ),
        Option(
            "extra_database_ports",
            (),
            "database-exposed: further port numbers that identify a datastore.",
            kind="ports",
        ),
        Option(
            "extra_sensitive_interface_images",
            (),
            "sensitive-interface-exposed: further image name substrings that identify an interface "
            "that must not be reachable from outside the cluster (an internal admin tool).",
        ),
        Option(
            "trusted_registries",
            (),
            "untrusted-registry: where images may come from: a registry host (`registry.example.com`, "
            "`docker.io` for Docker Hub), `*.` and a domain for its subdomains, or a host and path "
            "prefix (`ghcr.io/acme`). Empty: the check does not run.",
        ),
    )
}


_UNRESOLVED = object()


def option(ctx, name: str):
    """The configured value of ``name``, or its default when unset or of the wrong type."""
    # Checks ask per subject, tens of thousands of times a scan: resolved once per scan
    # where the context keeps what it resolved (the engine's does).
    resolved = getattr(ctx, "resolved_options", None)
    if resolved is None:
        return _resolve(ctx, name)
    value = resolved.get(name, _UNRESOLVED)
    if value is _UNRESOLVED:
        value = resolved[name] = _resolve(ctx, name)
    return value


def _resolve(ctx, name: str):
    spec = OPTIONS[name]
    options = getattr(ctx, "options", None) or {}
    value = options.get(name, spec.default)
    if isinstance(spec.default, bool) or not isinstance(spec.default, int | tuple):
        return value if isinstance(value, type(spec.default)) else spec.default
    if isinstance(spec.default, int):
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else spec.default
    # sequences: accept a list or tuple of scalars (JSON gives lists)
    if isinstance(value, list | tuple) and all(isinstance(v, str | int) for v in value):
        return tuple(value)
    return spec.default
