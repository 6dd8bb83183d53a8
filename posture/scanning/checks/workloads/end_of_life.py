"""Software whose project has stopped, so that no security fix will ever come for it."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from posture.scanning.checks.registry import Category, Failure, Frameworks, Severity, Target, register
from posture.scanning.checks.workloads.images import ImageNames, parsed_images
from posture.scanning.inventory import Workload


@dataclass(frozen=True)
class EndOfLife:
    project: str
    ended: date  # the last day it was maintained, as announced (the month's last, where only a month was)
    when: str  # as the announcement put it
    instead: str  # where to go, as the end of a sentence


# The one place this table lives: add a project when its end is announced, with the source.
# Only whole projects that stopped, not old releases of live ones (cluster-version-unsupported
# judges Kubernetes itself).
_ENDED: tuple[tuple[tuple[str, ...], EndOfLife], ...] = (
    (
        # Kubernetes SIG Network and the Security Response Committee, November 2025.
        (
            "ingress-nginx/controller",
            "ingress-nginx/controller-chroot",
            "kubernetes-ingress-controller/nginx-ingress-controller",  # its images before 2020
            "bitnami/nginx-ingress-controller",
        ),
        EndOfLife(
            "ingress-nginx",
            date(2026, 3, 31),
            "was retired in March 2026",
            "move to the Gateway API or another maintained Ingress controller",
        ),
    ),
    (
        # Archived by Kubernetes SIG UI in January 2026, with Headlamp as its successor.
        (
            "kubernetesui/dashboard",
            "kubernetesui/dashboard-web",
            "kubernetesui/dashboard-api",
            "kubernetesui/dashboard-auth",
            "kubernetesui/dashboard-metrics-scraper",
            "kubernetesui/metrics-scraper",
            "kubernetes-dashboard-amd64",
        ),
        EndOfLife(
            "the Kubernetes Dashboard",
            date(2026, 1, 31),
            "was archived in January 2026",
            "use Headlamp instead",
        ),
    ),
    (
        # Bitnami moved its free images to bitnamilegacy on 28 August 2025, never to update them.
        ("bitnamilegacy/*",),
        EndOfLife(
            "a Bitnami legacy image",
            date(2025, 8, 28),
            "has had no update since Bitnami moved its free images there on 28 August 2025",
            "use the project's own image or another maintained build",
        ),
    ),
    (
        # Weaveworks closed in February 2024; its open-source projects went unmaintained.
        ("weaveworks/weave-kube", "weaveworks/weave-npc"),
        EndOfLife(
            "Weave Net",
            date(2024, 2, 29),
            "has been unmaintained since Weaveworks closed in February 2024",
            "move to a maintained CNI",
        ),
    ),
    (
        ("weaveworks/scope",),
        EndOfLife(
            "Weave Scope",
            date(2024, 2, 29),
            "has been unmaintained since Weaveworks closed in February 2024",
            "remove it",
        ),
    ),
    (
        # Helm 2 ended on 13 November 2020; Tiller answers anyone in the cluster with its rights.
        ("kubernetes-helm/tiller", "tiller"),
        EndOfLife(
            "Helm 2's Tiller",
            date(2020, 11, 13),
            "reached its end of life on 13 November 2020",
            "migrate the releases to Helm 3 (helm-2to3) and delete Tiller",
        ),
    ),
)
_KNOWN = ImageNames((pattern, ended) for patterns, ended in _ENDED for pattern in patterns)


@register(
    id="end-of-life-software",
    title="Software past its end of life",
    category=Category.WORKLOAD,
    severity=Severity.HIGH,
    target=Target.WORKLOAD,
    frameworks=Frameworks(nsa=("Upgrading and application security practices",), mitre=("T1190",)),
    description="""
A container runs software whose project has stopped: every vulnerability found from then on
stays open, and such components tend to sit where they matter most (the cluster's way in, its
dashboard, its network). Recognised by image, whatever registry or mirror serves it:
ingress-nginx (retired in March 2026), the Kubernetes Dashboard (archived in January 2026),
Bitnami's frozen `bitnamilegacy` images (since August 2025), Weave Net and Weave Scope
(Weaveworks closed in February 2024) and Helm 2's Tiller (ended in November 2020). Judged on the
scan's date, so an older scan does not report what had not ended yet. The table is
`_ENDED` in `posture/scanning/checks/workloads/end_of_life.py`.
""",
    remediation="""
Replace the component with a maintained successor (each finding names one): ingress-nginx with
the Gateway API or another controller, the Kubernetes Dashboard with Headlamp, Weave Net with
another CNI, a `bitnamilegacy` image with the project's own, Tiller with Helm 3 (`helm 2to3`).
For ingress-nginx, a Gateway in its place:

```yaml
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: public
spec:
  gatewayClassName: eg   # the class of the controller you move to
  listeners:
    - {name: https, protocol: HTTPS, port: 443, tls: {certificateRefs: [{name: shop-tls}]}}
```
""",
)
def end_of_life_software(workload: Workload, ctx) -> Iterator[Failure]:
    today = ctx.now.date()
    for container, image, ref in parsed_images(workload, ctx):
        ended = _KNOWN.find(ref)
        if ended is not None and today > ended.ended:
            yield Failure(
                message=f"container {container.name} runs {ended.project} ({image}), which {ended.when}: "
                f"no security fix will come for it; {ended.instead}",
                path=f"{container.path}.image",
                value=image,
                container=container.name,
            )
