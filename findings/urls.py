from django.urls import path

from findings import views

app_name = "findings"

urlpatterns = [
    path("", views.FindingListView.as_view(), name="finding-list"),
    path("bulk/", views.FindingBulkView.as_view(), name="finding-bulk"),
    path("<int:pk>/", views.FindingDetailView.as_view(), name="finding-detail"),
    path("<int:pk>/status/", views.FindingStatusView.as_view(), name="finding-status"),
    path("<int:pk>/assign/", views.FindingAssignView.as_view(), name="finding-assign"),
    path("<int:pk>/comments/", views.FindingCommentView.as_view(), name="finding-comment"),
    path("checks/", views.CheckListView.as_view(), name="check-list"),
    path("exceptions/", views.ExceptionListView.as_view(), name="exception-list"),
    path("exceptions/new/", views.ExceptionCreateView.as_view(), name="exception-create"),
    path("exceptions/<int:pk>/revoke/", views.ExceptionRevokeView.as_view(), name="exception-revoke"),
]
