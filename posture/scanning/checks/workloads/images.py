"""Image references: what exactly runs, and whether the node re-checks it."""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Generic, TypeVar

from posture.scanning.checks.options import option
from posture.scanning.checks.registry import Category, Failure, Frameworks, Severity, Target, register
from posture.scanning.inventory import Workload

# OCI image-spec digests: registered algorithms have a fixed lowercase-hex encoding;
# any other well-formed algorithm is accepted as the registry's business.
_DIGEST = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")
_REGISTERED_DIGESTS = {
    "sha256": re.compile(r"^[a-f0-9]{64}$"),
    "sha512": re.compile(r"^[a-f0-9]{128}$"),
    "blake3": re.compile(r"^[a-f0-9]{64}$"),
}


@dataclass(frozen=True, slots=True)
class ImageRef:
    name: str
    tag: str  # "" when absent
    digest: str  # "" when absent, else e.g. "sha256:..."
    # Decided once per distinct reference (refs are parsed once per scan, read 30,000 times).
    pinned: bool  # referenced by a well-formed digest: exactly one image
    floating: bool  # neither pinned nor tagged with anything but latest

    @classmethod
    def parse(cls, image: str) -> "ImageRef":
        name, _, digest = image.partition("@")
        # A tag follows the last colon only if no slash comes after it (a registry port does).
        colon = name.rfind(":")
        tag = ""
        if colon > name.rfind("/"):
            name, tag = name[:colon], name[colon + 1 :]
        pinned = _well_formed_digest(digest)
        return cls(name, tag, digest, pinned=pinned, floating=not pinned and tag in ("", "latest"))


def _well_formed_digest(digest: str) -> bool:
    if not _DIGEST.match(digest):
        return False
    algorithm, _, encoded = digest.partition(":")
    registered = _REGISTERED_DIGESTS.get(algorithm)
    return registered is None or bool(registered.match(encoded))


T = TypeVar("T")
_WILDCARDS = frozenset("*?[")


class ImageNames(Generic[T]):
    """Known software, recognised by its image's repository whatever registry or mirror serves it.

    A pattern of one segment ("jenkins") matches the repository's last segment, of two
    ("jupyter/*-notebook") its last two, "bitnamilegacy/*" every repository of that owner, and
    one with a tag ("tensorflow/tensorflow:*jupyter*") the tag as well. Names and owners are
    looked up (every workload's every image is asked); only other wildcards are tried one by one.
    """

    def __init__(self, entries: Iterable[tuple[str, T]]):
        self._by_name: dict[str, T] = {}
        self._by_owner: dict[str, T] = {}
        self._by_pattern: list[tuple[str, T]] = []
        for pattern, value in entries:
            owner, _, rest = pattern.partition("/")
            if rest == "*" and not _WILDCARDS & set(owner):
                self._by_owner.setdefault(owner, value)
            elif _WILDCARDS & set(pattern):
                self._by_pattern.append((pattern, value))
            else:
                self._by_name.setdefault(pattern, value)

    def find(self, ref: "ImageRef") -> T | None:
        segments = ref.name.lower().rsplit("/", 2)
        last, last_two = segments[-1], "/".join(segments[-2:])
        found = self._by_name.get(last_two) or self._by_name.get(last)
        if found is None and len(segments) > 1:
            found = self._by_owner.get(segments[-2])
        if found is not None:
            return found
        for pattern, value in self._by_pattern:
            repository = last_two if "/" in pattern else last
            if fnmatchcase(f"{repository}:{ref.tag.lower()}" if ":" in pattern else repository, pattern):
                return value
        return None


def parsed_images(workload: Workload, ctx) -> Iterator[tuple]:
    """(container, image, ImageRef) for each container that names an image."""
    # Several checks read every image: parse each distinct reference once per scan.
    parsed: dict[str, ImageRef] = ctx.inventory.memo("image-refs", dict)
    for container in workload.containers:
        image = container.image.strip()
        if image:
            ref = parsed.get(image)
            if ref is None:
                ref = parsed[image] = ImageRef.parse(image)
            yield container, image, ref


@register(
    id="latest-tag",
    title="Image uses the latest tag or none",
    category=Category.WORKLOAD,
    severity=Severity.MEDIUM,
    target=Target.WORKLOAD,
    frameworks=Frameworks(nsa=("Pod security: image provenance",), mitre=("T1525",)),
    description="""
`:latest` (or no tag, which means the same) changes under you: two nodes may run different
code, a rollback has nothing to roll back to, and whoever can push to the repository decides
what runs. An image pinned by digest passes whatever its tag.
""",
    remediation="""
Reference a fixed version, ideally with its digest:

```yaml
image: registry.example.com/shop/api:1.14.2@sha256:3b5d...
```
""",
)
def latest_tag(workload: Workload, ctx) -> Iterator[Failure]:
    for container, image, ref in parsed_images(workload, ctx):
        if ref.floating:
            yield Failure(
                message=f"container {container.name} runs {image}, which has no fixed tag",
                path=f"{container.path}.image",
                value=image,
                container=container.name,
            )


@register(
    id="image-not-pinned-to-digest",
    title="Image not pinned to a digest",
    category=Category.WORKLOAD,
    severity=Severity.LOW,
    target=Target.WORKLOAD,
    frameworks=Frameworks(cis=("5.5.1",), nsa=("Pod security: image provenance",), mitre=("T1525",)),
    description="""
Tags are mutable: a pushed-over tag (by mistake or by an attacker with registry access)
silently changes what runs at the next pull. Only a digest names exactly one image. A digest
must be well-formed per the OCI image spec (sha256 and blake3: 64 lowercase hex characters;
sha512: 128); a truncated or upper-case one is not a pin.
""",
    remediation="""
```yaml
image: registry.example.com/shop/api:1.14.2@sha256:3b5d...
```
""",
)
def image_not_pinned_to_digest(workload: Workload, ctx) -> Iterator[Failure]:
    for container, image, ref in parsed_images(workload, ctx):
        if not ref.pinned:
            yield Failure(
                message=f"container {container.name} image {image} is not pinned to a digest"
                + (" (the digest is malformed)" if ref.digest else ""),
                path=f"{container.path}.image",
                value=image,
                container=container.name,
            )


@register(
    id="image-pull-policy-not-always",
    title="Image pull policy is not Always",
    category=Category.WORKLOAD,
    severity=Severity.LOW,
    target=Target.WORKLOAD,
    frameworks=Frameworks(nsa=("Pod security: image provenance",), mitre=("T1525",)),
    description="""
With `IfNotPresent` or `Never` a node reuses whatever image it has cached under that name:
a pod can then run a private image without the pull secret that should guard it, and a
moved tag is not picked up. Judged as written: `imagePullPolicy` must say `Always`. When it
is unset the API server picks one from the tag at admission (`Always` only for `:latest` or
no tag), so the behaviour changes silently the day the tag is pinned.
""",
    remediation="""
```yaml
imagePullPolicy: Always
```
""",
)
def image_pull_policy_not_always(workload: Workload, ctx) -> Iterator[Failure]:
    for container, image, ref in parsed_images(workload, ctx):
        policy = container.spec.get("imagePullPolicy")
        if policy == "Always":
            continue
        if policy is None:
            default = "Always" if ref.floating else "IfNotPresent"
            policy_text = f"unset (defaulted from the tag, to {default} today)"
        else:
            policy_text = str(policy)
        yield Failure(
            message=f"container {container.name} pulls {image} with policy {policy_text}",
            path=f"{container.path}.imagePullPolicy",
            value=policy,
            container=container.name,
        )


DOCKER_HUB = "docker.io"


def repository(name: str) -> str:
    """An image name as the container runtime resolves it: registry host, then path.

    The first component names a registry only if it looks like a host (a dot or a port) or is
    ``localhost``; otherwise the image is on Docker Hub, whose official images live under
    ``library/`` (``nginx`` is ``docker.io/library/nginx``).
    """
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        host = first.lower()
        return (
            f"{DOCKER_HUB}/{rest}"
            if host in ("index.docker.io", "registry-1.docker.io")
            else f"{host}/{rest}"
        )
    return f"{DOCKER_HUB}/{name}" if slash else f"{DOCKER_HUB}/library/{name}"


@dataclass(frozen=True, slots=True)
class TrustedRegistries:
    """The ``trusted_registries`` option, read once per scan."""

    entries: tuple[str, ...]

    def admit(self, repo: str) -> bool:
        host = repo.partition("/")[0]
        for entry in self.entries:
            if entry.startswith("*."):
                if host.endswith(entry[1:]):
                    return True
            elif repo == entry or repo.startswith(entry + "/"):
                return True
        return False


def _trusted(ctx) -> TrustedRegistries:
    return ctx.inventory.memo(
        "trusted-registries",
        lambda: TrustedRegistries(
            tuple(
                str(entry).strip().rstrip("/").lower()
                for entry in option(ctx, "trusted_registries")
                if str(entry).strip()
            )
        ),
    )


@register(
    id="untrusted-registry",
    title="Image from a registry outside the trusted list",
    category=Category.WORKLOAD,
    severity=Severity.MEDIUM,
    target=Target.WORKLOAD,
    frameworks=Frameworks(cis=("5.5.1",), nsa=("Pod security: image provenance",), mitre=("T1525",)),
    only_with_option="trusted_registries",
    description="""
An image pulled from anywhere runs whatever its publisher put in it: a typo-squatted name on a
public registry, or a registry nobody in the organisation scans or signs for. When the
`trusted_registries` option lists where images may come from, every container image elsewhere
is reported. Names are resolved as the container runtime resolves them: `nginx` is
`docker.io/library/nginx`, so Docker Hub is trusted only by listing `docker.io` (or a path
under it, such as `docker.io/library`). Without the option the check does not run.
""",
    remediation="""
Mirror the image into a trusted registry and reference it there, or add its registry to the
cluster's `trusted_registries`; an admission policy (Kyverno, Gatekeeper, ValidatingAdmissionPolicy)
can refuse other registries at the door:

```yaml
image: registry.example.com/mirror/nginx:1.27.3@sha256:3b5d...
```
""",
)
def untrusted_registry(workload: Workload, ctx) -> Iterator[Failure]:
    trusted = _trusted(ctx)
    for container, image, ref in parsed_images(workload, ctx):
        repo = repository(ref.name)
        if not trusted.admit(repo):
            yield Failure(
                message=f"container {container.name} runs {image} from {repo.partition('/')[0]}, "
                "which is not a trusted registry",
                path=f"{container.path}.image",
                value=image,
                container=container.name,
            )
