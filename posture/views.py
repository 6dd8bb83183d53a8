from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.vary import vary_on_headers
from django.views.generic import CreateView, DetailView, ListView

from accounts.models import Role
from accounts.permissions import has_role, teams_with_role
from posture import services
from posture.forms import ClusterForm, SnapshotUploadForm
from posture.models import Cluster, Scan, ScanTrigger


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


class ClusterListView(LoginRequiredMixin, ListView):
    template_name = "posture/cluster_list.html"
    context_object_name = "clusters"

    def get_queryset(self):
        return Cluster.objects.for_user(self.request.user).select_related("team", "last_scan")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_create"] = teams_with_role(self.request.user, Role.ADMIN).exists()
        return context


class ClusterCreateView(LoginRequiredMixin, CreateView):
    form_class = ClusterForm
    template_name = "posture/cluster_form.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not teams_with_role(request.user, Role.ADMIN).exists():
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form):
        cluster = services.save_cluster(form.save(commit=False))
        messages.success(self.request, f"Cluster {cluster.name} registered. Upload a snapshot to scan it.")
        return redirect("posture:cluster-detail", pk=cluster.pk)


@method_decorator(vary_on_headers("HX-Request"), name="dispatch")
class ClusterDetailView(LoginRequiredMixin, DetailView):
    template_name = "posture/cluster_detail.html"
    context_object_name = "cluster"

    def get_queryset(self):
        return Cluster.objects.for_user(self.request.user).select_related("team", "last_scan")

    def get_template_names(self):
        if self.request.htmx and not self.request.htmx.boosted:
            return ["posture/cluster_detail.html#scans"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        cluster = self.object
        context["scans"] = list(cluster.scans.select_related("snapshot")[:30])
        context["active_scan"] = next((scan for scan in context["scans"] if scan.is_active), None)
        context["can_scan"] = has_role(self.request.user, cluster.team_id, Role.ENGINEER)
        context["upload_form"] = SnapshotUploadForm()
        return context


class ClusterActionView(LoginRequiredMixin, View):
    """Base for POST actions on a cluster the user may scan."""

    needed_role = Role.ENGINEER

    def get_cluster(self, pk: int) -> Cluster:
        cluster = get_object_or_404(Cluster.objects.for_user(self.request.user), pk=pk)
        if not has_role(self.request.user, cluster.team_id, self.needed_role):
            raise PermissionDenied
        return cluster


class ScanNowView(ClusterActionView):
    def post(self, request, pk):
        cluster = self.get_cluster(pk)
        try:
            services.start_scan(cluster, trigger=ScanTrigger.MANUAL)
            messages.success(request, f"Scan of {cluster.name} queued.")
        except services.ScanAlreadyActive as exc:
            messages.warning(request, f"{str(exc).capitalize()}.")
        return redirect("posture:cluster-detail", pk=cluster.pk)


class SnapshotUploadView(ClusterActionView):
    def post(self, request, pk):
        cluster = self.get_cluster(pk)
        form = SnapshotUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            for error in form.errors.get("file", []):
                messages.error(request, error)
            return redirect("posture:cluster-detail", pk=cluster.pk)
        try:
            snapshot = services.store_snapshot(cluster, form.cleaned_data["file"].read(), user=request.user)
            services.start_scan(cluster, trigger=ScanTrigger.UPLOAD, snapshot=snapshot)
            messages.success(request, "Snapshot uploaded; scan queued.")
        except services.SnapshotRejected as exc:
            messages.error(request, f"Snapshot rejected: {exc}.")
        except services.ScanAlreadyActive as exc:
            messages.warning(request, f"Snapshot saved, but {exc}; scan again when it has finished.")
        return redirect("posture:cluster-detail", pk=cluster.pk)


@method_decorator(vary_on_headers("HX-Request"), name="dispatch")
class ScanDetailView(LoginRequiredMixin, DetailView):
    template_name = "posture/scan_detail.html"
    context_object_name = "scan"

    def get_queryset(self):
        return Scan.objects.for_user(self.request.user).select_related("cluster", "snapshot")

    def get_template_names(self):
        if self.request.htmx and not self.request.htmx.boosted:
            return ["posture/scan_detail.html#status"]
        return [self.template_name]
