from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.views.login import admin_login
from posture import health, pause_views, views
from posture.notifications import views as notification_views

app_name = "posture"

cluster_patterns = [
    path("", views.ClusterListView.as_view(), name="cluster-list"),
    path("new/", views.ClusterCreateView.as_view(), name="cluster-create"),
    path("test-connection/", views.ClusterTestConnectionView.as_view(), name="cluster-test-connection"),
    path("<int:pk>/", views.ClusterDetailView.as_view(), name="cluster-detail"),
    path("<int:pk>/edit/", views.ClusterEditView.as_view(), name="cluster-edit"),
    path("<int:pk>/delete/", views.ClusterDeleteView.as_view(), name="cluster-delete"),
    path(
        "<int:pk>/test-connection/", views.ClusterTestConnectionView.as_view(), name="cluster-test-connection"
    ),
    path("<int:pk>/scan/", views.ScanNowView.as_view(), name="cluster-scan"),
    path("<int:pk>/snapshot/", views.SnapshotUploadView.as_view(), name="cluster-snapshot"),
    path("<int:pk>/other-cluster/", views.OtherClusterView.as_view(), name="cluster-other-cluster"),
    path("<int:pk>/pause/", pause_views.ClusterPauseView.as_view(), name="cluster-pause"),
    path("<int:pk>/resume/", pause_views.ClusterResumeView.as_view(), name="cluster-resume"),
    path("<int:pk>/agent/", views.ClusterAgentView.as_view(), name="cluster-agent"),
    path(
        "<int:pk>/agent/tokens/<int:token_pk>/revoke/",
        views.IngestTokenRevokeView.as_view(),
        name="ingest-token-revoke",
    ),
    path("scans/<int:pk>/", views.ScanDetailView.as_view(), name="scan-detail"),
]

notification_patterns = [
    path("", notification_views.NotificationListView.as_view(), name="list"),
    path("<int:pk>/", notification_views.NotificationEditView.as_view(), name="edit"),
    path("<int:pk>/toggle/", notification_views.NotificationToggleView.as_view(), name="toggle"),
    path("<int:pk>/delete/", notification_views.NotificationDeleteView.as_view(), name="delete"),
]

urlpatterns = [
    path("", views.OverviewView.as_view(), name="home"),
    path("clusters/", include((cluster_patterns, "posture"))),
    path("notifications/", include((notification_patterns, "notifications"))),
    path("findings/", include("findings.urls")),
    path("accounts/", include("accounts.urls")),
    path("api/v1/", include("posture.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # The admin signs in through Rampart's own login (throttling, second factor), never its own form.
    path("admin/login/", admin_login),
    path("admin/", admin.site.urls),
    path("metrics", health.metrics, name="metrics"),
    # Pages without an icon link (the Django admin's) make browsers ask for /favicon.ico.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("img/rampart.svg"), permanent=True)),
]

# Error pages that show the request id to quote, and nothing else (posture/request_id.py).
handler400 = "posture.request_id.bad_request"
handler403 = "posture.request_id.permission_denied"
handler404 = "posture.request_id.page_not_found"
handler500 = "posture.request_id.server_error"
