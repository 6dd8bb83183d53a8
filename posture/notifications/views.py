"""The Notifications page: team admins add webhook and Slack endpoints and read the delivery log."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache

from accounts.models import Role, Team
from accounts.permissions import teams_with_role
from posture.models import NotificationDelivery, NotificationEndpoint
from posture.notifications import service
from posture.notifications.forms import NotificationEndpointForm

RECENT_DELIVERIES = 25


@method_decorator(never_cache, name="dispatch")
class TeamAdminView(LoginRequiredMixin, View):
    """Only for admins of at least one team; each sees the endpoints of the teams they administer."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not self.teams().exists():
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def teams(self):
        return Team.objects.filter(pk__in=teams_with_role(self.request.user, Role.ADMIN)).order_by("name")

    def endpoints(self):
        return NotificationEndpoint.objects.filter(team__in=self.teams()).select_related("team")

    def get_endpoint(self, pk: int) -> NotificationEndpoint:
        return get_object_or_404(self.endpoints(), pk=pk)  # another team's endpoint: 404, not 403

    def save(self, form) -> NotificationEndpoint | None:
        """The saved endpoint, or None with the refusal on the form (a name taken since it was checked)."""
        try:
            return service.save_endpoint(
                form.save(commit=False),
                url=form.cleaned_data.get("url"),
                secret=form.cleaned_data.get("secret"),
                actor=self.request.user,
                request=self.request,
                changed=form.changed_data,
            )
        except service.EndpointNameTaken as exc:
            form.add_error(exc.field, str(exc))
            return None


class NotificationListView(TeamAdminView):
    template_name = "posture/notifications.html"

    def get(self, request):
        return self._page(request, NotificationEndpointForm(teams=self.teams()))

    def post(self, request):
        form = NotificationEndpointForm(request.POST, teams=self.teams())
        endpoint = self.save(form) if form.is_valid() else None
        if endpoint is None:
            return self._page(request, form, status=400)
        messages.success(
            request,
            f"Endpoint “{endpoint.name}” added: {endpoint.team.name} is notified at {endpoint.url_host}.",
        )
        return redirect("notifications:list")

    def _page(self, request, form, status=200):
        last = NotificationDelivery.objects.filter(endpoint=OuterRef("pk")).order_by("-created_at", "-id")
        endpoints = self.endpoints().annotate(
            last_status=Subquery(last.values("status")[:1]),
            last_at=Subquery(last.values("created_at")[:1]),
            last_error=Subquery(last.values("error")[:1]),
        )
        deliveries = (
            NotificationDelivery.objects.filter(endpoint__in=self.endpoints())
            .select_related("endpoint", "scan__cluster")
            .order_by("-created_at", "-id")[:RECENT_DELIVERIES]
        )
        context = {"form": form, "endpoints": endpoints, "deliveries": deliveries}
        return render(request, self.template_name, context, status=status)


class NotificationEditView(TeamAdminView):
    template_name = "posture/notification_form.html"

    def get(self, request, pk):
        endpoint = self.get_endpoint(pk)
        form = NotificationEndpointForm(instance=endpoint, teams=self.teams())
        return render(request, self.template_name, {"form": form, "endpoint": endpoint})

    def post(self, request, pk):
        endpoint = self.get_endpoint(pk)
        form = NotificationEndpointForm(request.POST, instance=endpoint, teams=self.teams())
        if not form.is_valid() or self.save(form) is None:
            return render(request, self.template_name, {"form": form, "endpoint": endpoint}, status=400)
        messages.success(request, f"Endpoint “{endpoint.name}” saved.")
        return redirect("notifications:list")


class NotificationToggleView(TeamAdminView):
    def post(self, request, pk):
        endpoint = self.get_endpoint(pk)
        endpoint.enabled = not endpoint.enabled
        service.save_endpoint(
            endpoint, url=None, secret=None, actor=request.user, request=request, changed=["enabled"]
        )
        state = (
            "resumed: it receives notifications again"
            if endpoint.enabled
            else "paused: nothing is sent to it"
        )
        messages.success(request, f"Endpoint “{endpoint.name}” {state}.")
        return redirect("notifications:list")


class NotificationDeleteView(TeamAdminView):
    def post(self, request, pk):
        endpoint = self.get_endpoint(pk)
        service.delete_endpoint(endpoint, actor=request.user, request=request)
        messages.success(request, f"Endpoint “{endpoint.name}” deleted, with its delivery log.")
        return redirect("notifications:list")
