"""Real-world manifests (../shared/corpus/apps): every check runs on every document without an error."""

from datetime import UTC, datetime

import pytest

from posture.scanning import engine
from posture.scanning.checks import load_catalogue
from posture.scanning.collectors.snapshot import read_paths
from posture.scanning.inventory import Inventory
from tests.corpus import CORPUS

APPS = CORPUS / "apps"
APP_FILES = sorted(APPS.glob("*.yaml")) if APPS.is_dir() else []

pytestmark = pytest.mark.skipif(not APP_FILES, reason=f"the real-world manifests are not at {APPS}")
# Every check runs, the one that needs a list of trusted registries too.
EVERY_CHECK = engine.CheckSettings(options={"trusted_registries": ["registry.example.com"]})


@pytest.mark.parametrize("path", APP_FILES, ids=[p.name for p in APP_FILES])
def test_every_check_runs_on_a_real_world_app_without_error(path):
    snapshot = read_paths([path])
    assert snapshot.objects, f"{path.name} holds no objects"

    results = engine.run(
        Inventory.from_objects(snapshot.objects, source="manifests"),
        settings=EVERY_CHECK,
        now=datetime(2026, 11, 26, tzinfo=UTC),
    )

    assert results.errors == []
    assert set(results.checks) == {check.id for check in load_catalogue()}
    for finding in results.findings:
        assert finding.message
        assert finding.check_id in results.checks


def test_the_apps_together_make_one_scan_without_error():
    snapshot = read_paths(APP_FILES)
    results = engine.run(Inventory.from_objects(snapshot.objects, source="manifests"), settings=EVERY_CHECK)
    assert results.errors == []
    assert sum(results.evaluated.values()) > len(snapshot.objects)
