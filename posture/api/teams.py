"""Teams and their members over the API, as the Teams page allows them.

Members read their teams; team admins add, re-role and remove members; superusers create teams.
Another team is not found, as an unknown slug is. Every change goes through accounts.teams (which
keeps a last admin and audits each change); its refusals become 400s (the input) or 409s (the
team's state) in posture.api.errors.
"""

from django.db.models import Prefetch
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from accounts import teams
from accounts.models import Membership, Role, Team
from accounts.permissions import has_role
from posture.api.pagination import StandardPagination
from posture.api.throttling import ThrottleFirstMixin

SLUG = r"[-a-zA-Z0-9_]{1,100}"
# Django's usernames (UnicodeUsernameValidator): letters, digits and @.+-_, at most 150.
USERNAME = r"[\w.@+-]{1,150}"

_USERNAME_PARAMETER = OpenApiParameter(
    "username", str, OpenApiParameter.PATH, description="A member's username, exactly as the team lists it."
)


class MemberSerializer(serializers.Serializer):
    username = serializers.CharField(source="user.username", read_only=True)
    role = serializers.ChoiceField(choices=Role.choices, read_only=True)


class TeamSerializer(serializers.Serializer):
    slug = serializers.SlugField(read_only=True)
    name = serializers.CharField(read_only=True)
    role = serializers.ChoiceField(
        source="your_role",
        choices=Role.choices,
        allow_null=True,
        read_only=True,
        help_text="Your role in the team; null for a superuser who is not a member.",
    )
    member_count = serializers.IntegerField(read_only=True)
    cluster_count = serializers.IntegerField(read_only=True)


class TeamDetailSerializer(TeamSerializer):
    members = MemberSerializer(source="memberships", many=True, read_only=True)


class TeamCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, help_text="The slug is made from it.")


class MemberAddSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, help_text="Someone who already has a Rampart account.")
    role = serializers.ChoiceField(choices=Role.choices)


class MemberRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class MemberRoleSchema(OpenApiSerializerExtension):
    """The role is required in this PATCH too: drf-spectacular would document every field of a PATCH
    body as optional, but a role change without a role is refused (a 400), never a silent no-op."""

    target_class = MemberRoleSerializer

    def map_serializer(self, auto_schema, direction):
        return auto_schema._map_serializer(self.target_class, direction, bypass_extensions=True)


@extend_schema_view(
    list=extend_schema(summary="Your teams (superusers: every team), with your role in each"),
    retrieve=extend_schema(summary="One of your teams, with its members"),
    create=extend_schema(
        request=TeamCreateSerializer,
        responses={201: TeamDetailSerializer},
        summary="Create a team (superusers)",
    ),
)
class TeamViewSet(ThrottleFirstMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Team.objects.none()  # for the schema; the real one is get_queryset()
    serializer_class = TeamSerializer
    pagination_class = StandardPagination
    lookup_field = "slug"
    lookup_value_regex = SLUG
    ordering_fields = ["name", "member_count", "cluster_count"]
    ordering = ["name"]

    def get_queryset(self):
        queryset = teams.visible_teams(self.request.user)
        if self.action not in ("retrieve", "create"):
            return queryset
        members = Membership.objects.select_related("user").order_by("user__username")
        return queryset.prefetch_related(Prefetch("memberships", queryset=members))

    def get_serializer_class(self):
        return TeamSerializer if self.action == "list" else TeamDetailSerializer

    def create(self, request, *args, **kwargs):
        if not request.user.is_superuser:
            raise PermissionDenied("Creating a team needs a superuser.")
        serializer = TeamCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        team = teams.create_team(serializer.validated_data["name"], actor=request.user)
        return Response(self._team(team.slug), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=MemberAddSerializer,
        responses={201: MemberSerializer},
        summary="Add someone with an account to the team (team admins); 409 if already a member",
    )
    @action(detail=True, methods=["post"], url_path="members")
    def add_member(self, request, slug=None):
        team = self._administered_team()
        serializer = MemberAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        membership = teams.add_member(team, data["username"], data["role"], actor=request.user)
        return Response(MemberSerializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[_USERNAME_PARAMETER],
        request=MemberRoleSerializer,
        responses={200: MemberSerializer},
        summary="Change a member's role (team admins); 409 for the team's last admin",
    )
    @action(detail=True, methods=["patch"], url_path=rf"members/(?P<username>{USERNAME})", url_name="member")
    def member(self, request, slug=None, username=None):
        membership = self._membership(username)
        serializer = MemberRoleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        teams.change_role(membership, serializer.validated_data["role"], actor=request.user)
        return Response(MemberSerializer(membership).data)

    @extend_schema(
        parameters=[_USERNAME_PARAMETER],
        request=None,
        responses={204: None},
        summary="Remove a member from the team (team admins); 409 for the team's last admin",
    )
    @member.mapping.delete
    def remove_member(self, request, slug=None, username=None):
        teams.remove_member(self._membership(username), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _administered_team(self) -> Team:
        team = self.get_object()  # another team is not found, as an unknown slug is
        if not has_role(self.request.user, team.pk, Role.ADMIN):
            raise PermissionDenied("Managing members needs the admin role in the team.")
        return team

    def _membership(self, username: str) -> Membership:
        # Among the team's members only: another team's user is as unknown as nobody at all.
        team = self._administered_team()
        members = Membership.objects.select_related("user", "team").filter(team=team)
        membership = members.filter(user__username=username).first()
        if membership is None:
            raise NotFound()
        return membership

    def _team(self, slug: str) -> dict:
        team = self.get_queryset().get(slug=slug)
        return TeamDetailSerializer(team).data
