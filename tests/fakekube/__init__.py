"""Rampart's own fake Kubernetes API server (read-only), for tests and for trying live scans.

``python -m tests.fakekube --demo`` serves a generated cluster over HTTPS and
writes a kubeconfig that reaches it.
"""

from tests.fakekube.pki import CertificateAuthority, KeyPair
from tests.fakekube.server import DEFAULT_TOKEN, DEFAULT_VERSION, FakeKube, RecordedRequest, status_body

__all__ = [
    "DEFAULT_TOKEN",
    "DEFAULT_VERSION",
    "CertificateAuthority",
    "FakeKube",
    "KeyPair",
    "RecordedRequest",
    "status_body",
]
