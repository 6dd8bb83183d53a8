"""Management and compute interfaces that must not face the internet, behind Services that expose them."""

from collections.abc import Iterator
from dataclasses import dataclass

from posture.scanning.checks.network.services import external_exposure, recognised_behind, service_type
from posture.scanning.checks.options import option
from posture.scanning.checks.registry import Category, Failure, Frameworks, Severity, register
from posture.scanning.checks.workloads.images import ImageNames, ImageRef
from posture.scanning.inventory import Resource


@dataclass(frozen=True)
class Interface:
    product: str
    risk: str  # what anyone who reaches it can do, as the end of a sentence
    images: tuple[str, ...]  # patterns, as ImageNames reads them


# Software that runs code, holds cluster credentials or serves without a login by default.
# Tools built to face users with their own login (Grafana, Argo CD, Rancher) are not listed.
SENSITIVE_INTERFACES: tuple[Interface, ...] = (
    Interface(
        "Kubernetes Dashboard",
        "it acts on the cluster with its service account's permissions",
        (
            "kubernetesui/dashboard",
            "kubernetesui/dashboard-web",
            "kubernetesui/dashboard-api",
            "kubernetesui/dashboard-auth",
            "kubernetes-dashboard",
            "kubernetes-dashboard-amd64",
        ),
    ),
    Interface(
        "Portainer",
        "it manages the cluster with its service account, and a new install lets its first visitor "
        "choose the administrator's password",
        ("portainer/portainer", "portainer/portainer-ce", "portainer/portainer-ee"),
    ),
    Interface("Weave Scope", "it opens a shell in any container, with no login", ("weaveworks/scope",)),
    Interface(
        "Argo Workflows server",
        "it submits workflows, which run containers, and needs no login in its server auth mode",
        ("argoproj/argocli",),
    ),
    Interface(
        "Jenkins", "its script console and jobs run code on the controller and its agents", ("jenkins",)
    ),
    Interface(
        "Jupyter",
        "a notebook runs whatever code is typed into it",
        ("jupyter/*-notebook", "tensorflow/tensorflow:*jupyter*"),
    ),
    Interface(
        "Kubeflow central dashboard",
        "it is meant to sit behind Kubeflow's authenticating proxy, which a direct route skips",
        ("centraldashboard",),
    ),
    Interface(
        "Ray",
        "its dashboard's job API runs any code submitted to it, without authentication",
        ("rayproject/ray", "rayproject/ray-ml"),
    ),
    Interface(
        "Apache NiFi", "its processors run commands, and it listens without a login by default", ("nifi",)
    ),
    Interface("Apache Flink", "its web interface accepts and runs uploaded jobs", ("flink",)),
    Interface(
        "Apache Zeppelin", "its notebooks run code, and anonymous access is its default", ("zeppelin",)
    ),
    Interface(
        "MLflow",
        "its tracking server has no authentication by default and serves every artifact",
        ("mlflow",),
    ),
    Interface("vLLM", "it serves its models to anyone unless started with an API key", ("vllm-openai",)),
    Interface(
        "Hugging Face text-generation-inference",
        "it serves its models to anyone, with no authentication",
        ("text-generation-inference",),
    ),
    Interface("Ollama", "anyone can run, pull and delete its models: it has no authentication", ("ollama",)),
    Interface(
        "Selenium Grid",
        "it starts browsers for anyone, a route to cryptomining seen in the wild",
        ("selenium/hub", "selenium/standalone-*"),
    ),
    Interface(
        "Prometheus",
        "its API lists every target, label and scrape setting, with the credentials some carry",
        ("prometheus",),
    ),
    Interface("Alertmanager", "anyone can silence the alerts meant to catch an attack", ("alertmanager",)),
    Interface(
        "Consul",
        "with ACLs off, its default, its API registers health checks that run commands",
        ("consul",),
    ),
)


_KNOWN = ImageNames(
    (pattern, interface) for interface in SENSITIVE_INTERFACES for pattern in interface.images
)


def _sensitive_interface(image: str, extra: tuple[str, ...]) -> Interface | None:
    ref = ImageRef.parse(image)
    found = _KNOWN.find(ref)
    if found is not None:
        return found
    last = ref.name.lower().rsplit("/", 1)[-1]
    for fragment in extra:
        if fragment and str(fragment).lower() in last:
            return Interface(str(fragment), "the check settings list it as sensitive", ())
    return None


@register(
    id="sensitive-interface-exposed",
    title="Sensitive interface reachable from outside the cluster",
    category=Category.NETWORK,
    severity=Severity.HIGH,
    target="Service",
    frameworks=Frameworks(nsa=("Network separation and hardening",), mitre=("T1133", "T1190")),
    description="""
A LoadBalancer, NodePort or externalIPs Service in front of software that runs code, holds
cluster credentials or serves without a login puts it in reach of internet-wide scanners:
exposed dashboards, notebooks, CI servers and model servers are a common first step of cluster
takeovers and cryptomining (the Microsoft threat matrix's "exposed sensitive interfaces").
Recognised by the image of a workload the Service's selector picks: Kubernetes Dashboard,
Portainer, Weave Scope, the Argo Workflows server, Jenkins, Jupyter notebooks, the Kubeflow
central dashboard, Ray, Apache NiFi, Flink and Zeppelin, MLflow, vLLM, text-generation-inference,
Ollama, Selenium Grid, Prometheus, Alertmanager and Consul (more through the
`extra_sensitive_interface_images` option). Tools built to face users behind their own login
(Grafana, Argo CD, Rancher) are not reported, nor are Ingresses and Gateways: they are the
intended way in, where authentication can sit in front (`ingress-no-tls` judges both).
""",
    remediation="""
Keep the interface on a ClusterIP Service and reach it with `kubectl port-forward`, or behind
an Ingress with authentication (an OAuth2 proxy, the controller's external auth):

```yaml
spec:
  type: ClusterIP
```
""",
)
def sensitive_interface_exposed(service: Resource, ctx) -> Iterator[Failure]:
    exposure = external_exposure(service)
    if exposure is None:
        return
    extra = tuple(str(v) for v in option(ctx, "extra_sensitive_interface_images"))
    found = recognised_behind(service, ctx, lambda image: _sensitive_interface(image, extra))
    if found is None:
        return
    interface, evidence = found
    yield Failure(
        message=(
            f"{interface.product} is reachable from outside the cluster through {exposure} ({evidence}): "
            f"{interface.risk}"
        ),
        path="spec.externalIPs" if exposure.startswith("externalIPs") else "spec.type",
        value={"type": service_type(service), "interface": interface.product, "matched": evidence},
    )
