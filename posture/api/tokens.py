"""Your personal API tokens over the API: list, issue (shown once), revoke.

Issuing needs the browser session (where the second factor was checked): a token
never mints another token, so a leaked one cannot outlive its own revocation.
"""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from accounts import services
from accounts.models import ApiToken
from posture.api.pagination import StandardPagination
from posture.api.serializers import in_the_future
from posture.api.throttling import ThrottleFirstMixin
from posture.api.views import ID


class ApiTokenSerializer(serializers.ModelSerializer):
    prefix = serializers.SerializerMethodField()
    name = serializers.CharField(max_length=100, trim_whitespace=True)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "scope", "created_at", "expires_at", "last_used_at", "revoked_at"]
        read_only_fields = ["id", "prefix", "created_at", "last_used_at", "revoked_at"]

    def get_prefix(self, token) -> str:
        return f"{ApiToken.PREFIX}{token.token_id}_"

    def validate_expires_at(self, value):
        return in_the_future(value)


class IssuedApiTokenSerializer(ApiTokenSerializer):
    token = serializers.CharField(read_only=True, help_text="The token itself: shown this once, never again.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]


@extend_schema_view(
    list=extend_schema(summary="Your personal API tokens (never the secrets)"),
    create=extend_schema(
        responses={201: IssuedApiTokenSerializer}, summary="Issue a token (browser session only; shown once)"
    ),
    destroy=extend_schema(summary="Revoke one of your tokens"),
)
class ApiTokenViewSet(
    ThrottleFirstMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    queryset = ApiToken.objects.none()
    serializer_class = ApiTokenSerializer
    pagination_class = StandardPagination
    lookup_value_regex = ID
    ordering_fields = ["created_at", "expires_at", "last_used_at"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return ApiToken.objects.filter(user=self.request.user)

    def create(self, request, *args, **kwargs):
        if isinstance(request.auth, ApiToken):
            raise PermissionDenied("Tokens are issued from a signed-in browser session, never with a token.")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        token, plaintext = services.create_token(
            request.user, data["name"], data.get("scope", ApiToken.Scope.READ), data.get("expires_at")
        )
        body = IssuedApiTokenSerializer(token).data
        body["token"] = plaintext
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.revoke_token(instance, actor=self.request.user)
