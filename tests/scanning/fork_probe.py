"""Read a large generated manifest in a fresh process and print what was read, as JSON.

`python -m tests.scanning.fork_probe SCENARIO`. The forking tests run this in a clean,
single-threaded interpreter: the test process itself may have threads (a live server, a
worker), and a process with threads never forks a helper.
"""

import json
import logging
import os
import sys
import time

from posture.scanning.collectors import snapshot as snapshot_module
from posture.scanning.collectors.snapshot import (
    COVERAGE_GAPS_ANNOTATION,
    SERVER_VERSION_ANNOTATION,
    read_bytes,
)

DOCUMENTS = 1500
TEMPLATE_DOCUMENTS = (300, 1100, 1300)  # named with a placeholder; the last one not even YAML


def manifest() -> bytes:
    """ConfigMaps, with malformed, guarded, foreign and List documents spread over the file."""
    documents = []
    for index in range(DOCUMENTS):
        head = f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm-{index}}}\n"
        if index % 101 == 7:
            documents.append(f"kind: ConfigMap\nmetadata: [broken {index}\n")  # an error
        elif index % 97 == 3:
            documents.append(head + "data: {on: yes}\n")  # left to PyYAML by the guard
        elif index % 89 == 5:
            documents.append(f"just: a mapping {index}\n")  # not a Kubernetes object: skipped
        elif index in (400, 1200):  # one List in each half: the later one's version wins
            annotations = {
                COVERAGE_GAPS_ANNOTATION: json.dumps({f"Kind{index}": "forbidden"}),
                SERVER_VERSION_ANNOTATION: json.dumps({"gitVersion": f"v1.{index}.0"}),
            }
            documents.append(
                "apiVersion: v1\nkind: List\nmetadata:\n  annotations: "
                + json.dumps(annotations)
                + f"\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {{name: s-{index}}}\n"
                + "  data: {password: c2VjcmV0}\n"
            )
        else:
            documents.append(head + "data: {k: v}\n")
    if os.environ.get("PROBE_TIMESTAMP"):  # a value marshal cannot carry, in the child's half
        documents[-3] = (
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dated}\ndata: {at: !!timestamp 2026-01-01}\n"
        )
    if os.environ.get("PROBE_TEMPLATES"):  # unrendered templates in both halves
        for index in TEMPLATE_DOCUMENTS:
            name = "{{ .Release.Name }}" if index == 1300 else f'"{{{{ .Release.Name }}}}-{index}"'
            documents[index] = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"
    if os.environ.get("PROBE_GIANT_LAST"):
        # A last document larger than all the others: the middle byte lies inside it, and no
        # marker follows, so there is no second half to give a child.
        filler = "".join(f"  k{index}: {'v' * 60}\n" for index in range(6000))
        documents.append(f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: giant}}\ndata:\n{filler}")
    if os.environ.get("PROBE_MARKERS"):
        # Document end markers and empty documents everywhere, the middle of the file included:
        # each process numbers its half's documents and lines as one reading of the file would.
        separators = ("---\n", "...\n---\n", "---\n---\n", "---  # next\n")
        text = documents[0]
        for index, document in enumerate(documents[1:]):
            text += separators[index % len(separators)] + document
        return text.encode()
    return "---\n".join(documents).encode()


def describe(snapshot) -> dict:
    return {
        "objects": repr(snapshot.objects),
        "names": [obj["metadata"]["name"] for obj in snapshot.objects],
        "origins": [list(origin) for origin in snapshot.origins],
        "errors": [[error.file, error.document, error.reason] for error in snapshot.errors],
        "documents": snapshot.documents,
        "skipped": snapshot.skipped,
        "coverage_gaps": snapshot.coverage_gaps,
        "server_version": snapshot.server_version,
    }


class Stopped(Exception):
    pass


def main(scenario: str) -> None:
    forks = []
    real_fork = os.fork

    def counting_fork():
        forks.append(1)
        return real_fork()

    os.fork = counting_fork
    warnings = []
    logging.basicConfig(level=logging.WARNING, handlers=[_Collect(warnings)])
    data = manifest()
    result = {}
    if scenario == "child-fails":
        snapshot_module._read_share = _raise  # the child meets an error in its share
    if scenario == "stopped":
        original = snapshot_module._read_documents

        def stop_in_parent(*args):
            if os.getpid() == parent:
                raise Stopped
            return original(*args)

        parent = os.getpid()
        snapshot_module._read_documents = stop_in_parent
        started = time.monotonic()
        try:
            read_bytes(data * 200, "big.yaml")
        except Stopped:
            result["stopped_after"] = time.monotonic() - started
        snapshot_module._read_documents = original
        os.environ["RAMPART_FORK"] = "0"
        started = time.monotonic()
        read_bytes(data * 200, "big.yaml")
        result["whole_read"] = time.monotonic() - started
        try:
            os.waitpid(-1, os.WNOHANG)
            result["children_left"] = True
        except ChildProcessError:
            result["children_left"] = False
    else:
        result["read"] = describe(read_bytes(data, "big.yaml"))
        os.environ["RAMPART_FORK"] = "0"
        result["in_process"] = describe(read_bytes(data, "big.yaml"))
    result["forks"] = len(forks)
    result["warnings"] = warnings
    print(json.dumps(result))  # noqa: T201 - the test reads it


def _raise(*args):
    raise RuntimeError("the child's share failed")


class _Collect(logging.Handler):
    def __init__(self, into: list):
        super().__init__()
        self.into = into

    def emit(self, record):
        self.into.append(record.getMessage())


if __name__ == "__main__":
    main(sys.argv[1])
