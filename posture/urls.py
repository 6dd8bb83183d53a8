from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from posture import views
from posture.api.urls import router as api_router

app_name = "posture"

cluster_patterns = [
    path("", views.ClusterListView.as_view(), name="cluster-list"),
    path("new/", views.ClusterCreateView.as_view(), name="cluster-create"),
    path("<int:pk>/", views.ClusterDetailView.as_view(), name="cluster-detail"),
    path("<int:pk>/scan/", views.ScanNowView.as_view(), name="cluster-scan"),
    path("<int:pk>/snapshot/", views.SnapshotUploadView.as_view(), name="cluster-snapshot"),
    path("scans/<int:pk>/", views.ScanDetailView.as_view(), name="scan-detail"),
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="posture:cluster-list", permanent=False), name="home"),
    path("clusters/", include((cluster_patterns, "posture"))),
    path("findings/", include("findings.urls")),
    path("accounts/", include("accounts.urls")),
    path("api/v1/", include(api_router.urls)),
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
]
