"""Synthetic clusters for the benchmarks, written as a live cluster would return them.

posture.demo generates the objects; this adds what an API server adds (uid,
resourceVersion, managedFields, status, the last-applied annotation) so that
files have the size and shape of a real `kubectl get -o json` dump.
"""

import copy
import hashlib
from pathlib import Path

import orjson
import yaml

from posture.demo import as_list_document, generate_cluster

OUT = Path(__file__).resolve().parent / "out"


def _server_side(obj: dict, index: int) -> dict:
    obj = copy.deepcopy(obj)
    metadata = obj.setdefault("metadata", {})
    uid = hashlib.md5(f"{index}".encode(), usedforsecurity=False).hexdigest()
    metadata["uid"] = f"{uid[:8]}-{uid[8:12]}-{uid[12:16]}-{uid[16:20]}-{uid[20:32]}"
    metadata["resourceVersion"] = str(100000 + index)
    metadata["creationTimestamp"] = metadata.get("creationTimestamp", "2026-03-01T10:00:00Z")
    metadata.setdefault("annotations", {})["kubectl.kubernetes.io/last-applied-configuration"] = orjson.dumps(
        {
            "apiVersion": obj.get("apiVersion"),
            "kind": obj.get("kind"),
            "metadata": {"name": metadata.get("name")},
            "spec": obj.get("spec", {}),
        }
    ).decode()
    metadata["managedFields"] = [
        {
            "apiVersion": obj.get("apiVersion"),
            "fieldsType": "FieldsV1",
            "manager": "kubectl-client-side-apply",
            "operation": "Update",
            "time": "2026-03-01T10:00:00Z",
            "fieldsV1": {
                "f:metadata": {"f:labels": {".": {}}},
                "f:spec": {"f:replicas": {}, "f:template": {}},
            },
        },
    ]
    if obj.get("kind") in ("Deployment", "StatefulSet"):
        replicas = obj.get("spec", {}).get("replicas", 1)
        obj["status"] = {
            "replicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            "observedGeneration": 1,
            "conditions": [
                {
                    "type": "Available",
                    "status": "True",
                    "reason": "MinimumReplicasAvailable",
                    "lastTransitionTime": "2026-03-01T10:01:00Z",
                }
            ],
        }
    return obj


def cluster_objects(workloads: int) -> list[dict]:
    return [_server_side(obj, index) for index, obj in enumerate(generate_cluster(workloads))]


# Bumped whenever the files' content changes, so that a cached file of an older shape is not reused.
_FORMAT = 2


class _KubectlDumper(yaml.CSafeDumper):
    """YAML as `kubectl get -o yaml` writes it: every object spelled out, no anchors.

    PyYAML's dumper turns a dict the generator shares between two places (a workload's
    labels and its selector) into an anchor and an alias, which no Kubernetes tool writes.
    """

    def ignore_aliases(self, data) -> bool:
        return True


def write(workloads: int) -> dict[str, Path]:
    """Write (once) the JSON List and multi-document YAML files for a cluster size."""
    OUT.mkdir(exist_ok=True)
    json_path = OUT / f"cluster-{workloads}.v{_FORMAT}.json"
    yaml_path = OUT / f"cluster-{workloads}.v{_FORMAT}.yaml"
    if not json_path.exists() or not yaml_path.exists():
        objects = cluster_objects(workloads)
        json_path.write_bytes(orjson.dumps(as_list_document(objects)))
        with yaml_path.open("w") as handle:
            yaml.dump_all(objects, handle, Dumper=_KubectlDumper, sort_keys=False)
    return {"json": json_path, "yaml": yaml_path}
