"""Team admins pause a cluster's scans and resume them (posture.pausing does both).

The cluster page carries the pause form inline; it also has a page of its own, where a refused
reason is shown with the text typed, and which works without the cluster page around it.
"""

from django.contrib import messages
from django.shortcuts import redirect, render

from accounts.models import Role
from posture import pausing
from posture.forms import ClusterPauseForm
from posture.views import ClusterActionView


def schedule_words(cluster) -> str:
    """ "every 60 minutes", "cron 0 3 * * *, UTC", or "" for a cluster scanned only on demand."""
    if cluster.scan_cron:
        return f"cron {cluster.scan_cron}, UTC"
    if cluster.scan_interval_minutes:
        return f"every {cluster.scan_interval_minutes} minutes"
    return ""


class ClusterPauseView(ClusterActionView):
    needed_role = Role.ADMIN

    def get(self, request, pk):
        return self._page(request, self.get_cluster(pk), ClusterPauseForm())

    def post(self, request, pk):
        cluster = self.get_cluster(pk)
        form = ClusterPauseForm(request.POST)
        if not form.is_valid():
            return self._page(request, cluster, form, status=400)
        wanted = form.cleaned_data
        if pausing.pause_cluster(cluster, actor=request.user, reason=wanted["reason"], until=wanted["until"]):
            schedule = schedule_words(cluster)
            kept = f" Its schedule ({schedule}) is kept for then." if schedule else ""
            messages.success(
                request, f"Scanning of {cluster.name} paused: no scan starts until it is resumed.{kept}"
            )
        else:
            messages.info(
                request, f"{cluster.name} was already paused ({pausing.pause_description(cluster)})."
            )
        return redirect("posture:cluster-detail", pk=cluster.pk)

    def _page(self, request, cluster, form, status=200):
        return render(
            request, "posture/cluster_pause.html", {"cluster": cluster, "form": form}, status=status
        )


class ClusterResumeView(ClusterActionView):
    needed_role = Role.ADMIN

    def post(self, request, pk):
        cluster = self.get_cluster(pk)
        if pausing.resume_cluster(cluster, actor=request.user):
            schedule = schedule_words(cluster)
            runs = f": its schedule ({schedule}) runs again" if schedule else ""
            messages.success(request, f"Scanning of {cluster.name} resumed{runs}.")
        else:
            messages.info(request, f"{cluster.name} was not paused.")
        return redirect("posture:cluster-detail", pk=cluster.pk)
