from django.urls import path

from findings import views

app_name = "findings"

urlpatterns = [
    path("", views.FindingListView.as_view(), name="finding-list"),
]
