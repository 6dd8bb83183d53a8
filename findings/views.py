from django.contrib.auth.mixins import LoginRequiredMixin
from django.utils.decorators import method_decorator
from django.views.decorators.vary import vary_on_headers
from django.views.generic import ListView

from findings.filtersets import FindingFilterSet
from findings.models import Finding
from posture.models import Cluster


@method_decorator(vary_on_headers("HX-Request"), name="dispatch")
class FindingListView(LoginRequiredMixin, ListView):
    template_name = "findings/finding_list.html"
    context_object_name = "findings"
    paginate_by = 50

    def get_queryset(self):
        base = Finding.objects.for_user(self.request.user).select_related("cluster", "assignee")
        self.filterset = FindingFilterSet(self.request.GET or None, queryset=base)
        if self.filterset.is_bound and not self.filterset.is_valid():
            return base.none()
        return self.filterset.qs.order_by("-last_seen_at", "-id")

    def get_template_names(self):
        if self.request.htmx and not self.request.htmx.boosted:
            return ["findings/finding_list.html#results"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filterset"] = self.filterset
        context["clusters"] = Cluster.objects.for_user(self.request.user).only("id", "name")
        query = self.request.GET.copy()
        query.pop("page", None)
        context["query"] = query.urlencode()
        return context
