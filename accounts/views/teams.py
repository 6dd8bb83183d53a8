"""Teams: who is in each, with which role; superusers create teams, team admins manage members."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View

from accounts import teams
from accounts.forms import MemberAddForm, RoleForm, TeamCreateForm
from accounts.models import Membership, Role, Team
from accounts.permissions import has_role, role_in_team


def _refused(exc: Exception) -> str:
    text = str(exc)
    return f"{text[:1].upper()}{text[1:]}."


class TeamListView(LoginRequiredMixin, View):
    template_name = "accounts/team_list.html"

    def get(self, request):
        return self._page(request, TeamCreateForm())

    def post(self, request):
        if not request.user.is_superuser:
            raise PermissionDenied
        form = TeamCreateForm(request.POST)
        if form.is_valid():
            try:
                team = teams.create_team(form.cleaned_data["name"], actor=request.user)
            except teams.MembershipRefused as exc:
                form.add_error("name", _refused(exc))
            else:
                messages.success(request, f"Team {team.name} created. Add its members below.")
                return redirect("accounts:team-detail", pk=team.pk)
        return self._page(request, form, status=400)

    def _page(self, request, form, status=200):
        rows = [
            (team, Role(team.your_role) if team.your_role else None)
            for team in teams.visible_teams(request.user)
        ]
        return render(request, self.template_name, {"rows": rows, "form": form}, status=status)


class TeamView(LoginRequiredMixin, View):
    """One team: its members are visible to its members; changes need its admin role."""

    def get_team(self, pk: int, *, admin: bool = False) -> Team:
        team = get_object_or_404(Team, pk=pk)
        if role_in_team(self.request.user, team.pk) is None:
            raise Http404("No such team")  # another team's page is not found, as an unknown id is
        if admin and not has_role(self.request.user, team.pk, Role.ADMIN):
            raise PermissionDenied
        return team


class TeamDetailView(TeamView):
    template_name = "accounts/team_detail.html"

    def get(self, request, pk):
        team = self.get_team(pk)
        # A team without an admin (a superuser's new team): the first member added should be one.
        has_admin = Membership.objects.filter(team=team, role=Role.ADMIN).exists()
        return self._page(request, team, MemberAddForm(initial={} if has_admin else {"role": Role.ADMIN}))

    def _page(self, request, team, form, status=200):
        members = Membership.objects.filter(team=team).select_related("user").order_by("user__username")
        context = {
            "team": team,
            "members": members,
            "form": form,
            "roles": Role.choices,
            "is_admin": has_role(request.user, team.pk, Role.ADMIN),
            "admin_count": sum(1 for member in members if member.role == Role.ADMIN),
        }
        return render(request, self.template_name, context, status=status)


class TeamMemberAddView(TeamDetailView):
    def get(self, request, pk):  # the address of a refused form, reloaded or bookmarked: its page
        return redirect("accounts:team-detail", pk=pk)

    def post(self, request, pk):
        team = self.get_team(pk, admin=True)
        form = MemberAddForm(request.POST)
        if form.is_valid():
            try:
                membership = teams.add_member(
                    team, form.cleaned_data["username"], form.cleaned_data["role"], actor=request.user
                )
            except teams.MembershipRefused as exc:
                form.add_error("username", _refused(exc))
            else:
                role = membership.get_role_display().lower()
                messages.success(request, f"{membership.user.get_username()} added to {team.name} as {role}.")
                return redirect("accounts:team-detail", pk=team.pk)
        return self._page(request, team, form, status=400)


class TeamMemberView(TeamView):
    def get_membership(self, pk: int, member_pk: int) -> Membership:
        team = self.get_team(pk, admin=True)
        return get_object_or_404(Membership.objects.select_related("user", "team"), pk=member_pk, team=team)


class TeamMemberRoleView(TeamMemberView):
    def post(self, request, pk, member_pk):
        membership = self.get_membership(pk, member_pk)
        form = RoleForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose viewer, engineer or admin.")
        else:
            try:
                changed = teams.change_role(membership, form.cleaned_data["role"], actor=request.user)
                state = "now" if changed else "already"
                messages.success(
                    request,
                    f"{membership.user.get_username()} is {state} {membership.get_role_display().lower()} "
                    f"in {membership.team.name}.",
                )
            except teams.MembershipRefused as exc:
                messages.error(request, _refused(exc))
        return redirect("accounts:team-detail", pk=pk)


class TeamMemberRemoveView(TeamMemberView):
    def post(self, request, pk, member_pk):
        membership = self.get_membership(pk, member_pk)
        try:
            teams.remove_member(membership, actor=request.user)
        except teams.MembershipRefused as exc:
            messages.error(request, _refused(exc))
        else:
            messages.success(
                request, f"{membership.user.get_username()} removed from {membership.team.name}."
            )
        return redirect("accounts:team-detail", pk=pk)
