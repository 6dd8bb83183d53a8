"""Rampart's own fake Kubernetes API server (read-only), for tests and for trying live scans.

``python -m tests.fakekube --demo`` serves a generated cluster over HTTPS and
writes a kubeconfig that reaches it.
"""

from tests.fakekube.api import DEFAULT_VERSION, FakeApi, status_body
from tests.fakekube.pki import CertificateAuthority, KeyPair
from tests.fakekube.server import DEFAULT_TOKEN, FakeKube, RecordedRequest

__all__ = [
    "DEFAULT_TOKEN",
    "DEFAULT_VERSION",
    "FakeApi",
    "CertificateAuthority",
    "FakeKube",
    "KeyPair",
    "RecordedRequest",
    "status_body",
]
