from rest_framework.routers import DefaultRouter

from findings.api.views import FindingViewSet
from posture.api.views import ClusterViewSet, ScanViewSet

router = DefaultRouter()
router.register("clusters", ClusterViewSet, basename="cluster")
router.register("scans", ScanViewSet, basename="scan")
router.register("findings", FindingViewSet, basename="finding")
