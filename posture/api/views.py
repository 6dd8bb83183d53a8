from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from accounts.models import Role
from accounts.permissions import TokenScopePermission, has_role
from posture import services
from posture.api.serializers import ClusterSerializer, ScanSerializer
from posture.models import Cluster, Scan, ScanTrigger


class ClusterViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ClusterSerializer
    permission_classes = [*viewsets.ReadOnlyModelViewSet.permission_classes, TokenScopePermission]
    ordering_fields = ["name", "created_at"]
    ordering = ["name"]

    def get_queryset(self):
        return Cluster.objects.for_user(self.request.user).select_related("team", "last_scan")

    @action(detail=True, methods=["post"])
    def scan(self, request, pk=None):
        """Queue a scan now. 409 while one is already queued or running."""
        cluster = self.get_object()
        if not has_role(request.user, cluster.team_id, Role.ENGINEER):
            raise PermissionDenied("Scanning needs the engineer role in this cluster's team.")
        try:
            scan = services.start_scan(cluster, trigger=ScanTrigger.MANUAL)
        except services.ScanAlreadyActive as exc:
            return Response(
                {"error": {"code": "conflict", "message": str(exc)}}, status=status.HTTP_409_CONFLICT
            )
        return Response(ScanSerializer(scan).data, status=status.HTTP_202_ACCEPTED)


class ScanViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ScanSerializer
    filterset_fields = ["cluster", "status", "trigger"]
    ordering_fields = ["created_at", "finished_at", "score"]
    ordering = ["-created_at"]

    def get_queryset(self):
        return Scan.objects.for_user(self.request.user)

    def get_object(self):
        try:
            return super().get_object()
        except (ValueError, TypeError):
            raise NotFound() from None
