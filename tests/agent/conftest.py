import pytest
import yaml

from posture.models import IngestToken
from tests.factories import make_cluster
from tests.fakekube import FakeKube
from tests.live.cluster import fixture_objects


@pytest.fixture
def fake_cluster(tmp_path):
    """The project's fake Kubernetes API server, in this process, with the live tests' fixture cluster."""
    kube = FakeKube(fixture_objects()).start()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(kube.kubeconfig()))
    yield kube, kubeconfig
    kube.stop()


@pytest.fixture
def agent_cluster(team):
    return make_cluster(team, name="edge-agent", connection_mode="agent")


@pytest.fixture
def ingest_token(agent_cluster, tmp_path):
    token, raw = IngestToken.issue(agent_cluster, "cronjob")
    path = tmp_path / "token"
    path.write_text(raw + "\n")
    return token, raw, path
