from django.urls import path, re_path
from rest_framework.routers import DefaultRouter

import posture.api.schema  # noqa: F401 - registers the OpenAPI extensions
import posture.notifications.admin  # noqa: F401 - the delivery log in Django's admin
from findings.api.views import CommentViewSet, ExceptionRuleViewSet, FindingEventViewSet, FindingViewSet
from posture.api.agents import SnapshotPushView
from posture.api.notifications import NotificationDeliveryViewSet, NotificationEndpointViewSet
from posture.api.teams import TeamViewSet
from posture.api.tokens import ApiTokenViewSet
from posture.api.views import (
    ID,
    CheckViewSet,
    ClusterViewSet,
    ScanViewSet,
    SummaryView,
    TrendsView,
    not_found,
)

router = DefaultRouter()
# JSON only: no ".json" twins of every route (DRF's actions did not accept the suffix).
router.include_format_suffixes = False
router.register("clusters", ClusterViewSet, basename="cluster")
router.register("scans", ScanViewSet, basename="scan")
router.register("findings", FindingViewSet, basename="finding")
router.register("checks", CheckViewSet, basename="check")
router.register("exceptions", ExceptionRuleViewSet, basename="exception")
router.register("comments", CommentViewSet, basename="comment")
router.register("history", FindingEventViewSet, basename="history")
router.register("tokens", ApiTokenViewSet, basename="token")
router.register("teams", TeamViewSet, basename="team")
router.register("notification-endpoints", NotificationEndpointViewSet, basename="notification-endpoint")
router.register("notification-deliveries", NotificationDeliveryViewSet, basename="notification-delivery")

urlpatterns = [
    path("trends/", TrendsView.as_view(), name="trends"),
    path("summary/", SummaryView.as_view(), name="summary"),
    # The agent's push: no trailing slash, as documented for the CronJob.
    path(
        "clusters/<int:pk>/snapshots",
        SnapshotPushView.as_view(),
        name="cluster-snapshot-push",
    ),
    *router.urls,
    # Anything else under /api/v1/ is a 404 in the API's error format, not the HTML page.
    re_path(r"^[\s\S]*$", not_found, name="not-found"),
]
assert ID  # ids in paths are digits only (see posture.api.views.ID)
