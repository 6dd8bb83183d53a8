"""The in-cluster agent's only endpoint: POST /api/v1/clusters/{id}/snapshots.

Authenticated by the cluster's ingest token (``rpi_``), which this view alone
accepts and which authorizes nothing else: the request's user stays anonymous,
so every other endpoint (IsAuthenticated) refuses it, and personal tokens are
not accepted here. The body is the snapshot, gzip-compressed JSON or YAML (a
``kind: List``); it is refused early by its declared length and again while
reading. ``Idempotency-Key`` makes a retried push return the first answer
without storing or scanning twice; the key used again with another body is a
422, never the first answer to a different request.
"""

import hashlib
import hmac
import logging
import re

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiRequest, OpenApiResponse, extend_schema
from rest_framework import authentication, exceptions, permissions, status
from rest_framework.parsers import BaseParser
from rest_framework.response import Response
from rest_framework.views import APIView

from posture import pausing, services
from posture.api.errors import Conflict, error_body
from posture.api.exceptions import IdempotencyKeyReused, PushInProgress, SnapshotOfAnotherCluster
from posture.api.parsers import declared_length, read_limited
from posture.api.serializers import ScanSerializer, SnapshotPushSerializer, pause_data
from posture.api.throttling import IngestRateThrottle, ThrottleFirstMixin
from posture.models import AgentPush, Cluster, IngestToken, ScanTrigger, Snapshot

logger = logging.getLogger(__name__)

LAST_USED_RESOLUTION_SECONDS = 60
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,200}$")


class IngestTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer rpi_<id>_<secret>``; the user stays anonymous."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1", errors="replace").split()
        if not header or header[0].lower() != "bearer":
            return None
        invalid = exceptions.AuthenticationFailed("Invalid or revoked ingest token.")
        if len(header) != 2 or not header[1].startswith(IngestToken.PREFIX):
            raise invalid
        token_id, _, secret = header[1][len(IngestToken.PREFIX) :].partition("_")
        if not token_id or not secret or len(token_id) > 16:
            raise invalid
        token = IngestToken.objects.filter(token_id=token_id, revoked_at__isnull=True).first()
        if token is None or not hmac.compare_digest(token.secret_hash, IngestToken.hash_secret(secret)):
            raise invalid
        now = timezone.now()
        if token.state(now) == "expired":
            # Its holder knows the secret: telling it why is what gets the agent fixed.
            raise exceptions.AuthenticationFailed(
                f"This ingest token expired on {token.expires_at:%Y-%m-%d %H:%M} UTC: issue a new one on the "
                "cluster's Agent page in Rampart and put it in the agent's Secret (rampart-agent-token)."
            )
        if (
            token.last_used_at is None
            or (now - token.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS
        ):
            IngestToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return AnonymousUser(), token

    def authenticate_header(self, request):
        return 'Bearer realm="ingest"'


class IsThisClustersIngestToken(permissions.BasePermission):
    message = "This ingest token belongs to another cluster."

    def has_permission(self, request, view):
        token = request.auth
        if not isinstance(token, IngestToken):
            raise exceptions.NotAuthenticated("Push snapshots with the cluster's ingest token.")
        if str(token.cluster_id) == str(view.kwargs.get("pk")):
            return True
        # Its holder is that cluster's agent: naming its cluster tells it nothing new and fixes the
        # usual cause, a RAMPART_CLUSTER_ID copied from another cluster's setup.
        self.message = (
            f"This ingest token belongs to cluster {token.cluster_id}, not {view.kwargs.get('pk')}: "
            f"push with --cluster-id {token.cluster_id} (RAMPART_CLUSTER_ID)."
        )
        return False


class RawBodyParser(BaseParser):
    """Accept any body type; the view reads the stream itself, with its own limit."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):  # pragma: no cover - never called
        return None


class SnapshotPushView(ThrottleFirstMixin, APIView):
    authentication_classes = [IngestTokenAuthentication]
    permission_classes = [IsThisClustersIngestToken]
    throttle_classes = [IngestRateThrottle]
    parser_classes = [RawBodyParser]

    @extend_schema(
        operation_id="clusters_snapshots_push",
        summary="Push a snapshot from the in-cluster agent and queue its scan",
        description="The body is the cluster's objects as a gzip-compressed JSON `kind: List` (or YAML). "
        "Authenticate with the cluster's ingest token. A repeated `Idempotency-Key` returns the first "
        "answer without a second scan; the same key with a different body is refused (422). 409 when a "
        "scan is already queued or running (the snapshot is kept and the next scan reads it); 409 with the "
        "code `another_cluster` when the snapshot's kube-system namespace is not the cluster's (nothing is "
        "kept; a team admin accepts the new cluster on the cluster's page or with `accept-other-cluster`). "
        "While the cluster is paused the snapshot is stored but not scanned: 202 with `scan` null and "
        "`paused` set.",
        request=OpenApiRequest(OpenApiTypes.BINARY),
        parameters=[
            OpenApiParameter("id", int, OpenApiParameter.PATH),
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="8-200 characters of [A-Za-z0-9._:-]; e.g. a UUID per push.",
            ),
        ],
        responses={
            202: SnapshotPushSerializer,
            422: OpenApiResponse(description="The Idempotency-Key was used for a different request"),
        },
        tags=["agent"],
    )
    def post(self, request, pk):
        token: IngestToken = request.auth
        cluster = Cluster.objects.filter(pk=token.cluster_id).first()
        if cluster is None:
            raise exceptions.NotFound()
        if cluster.connection_mode not in services.PUSH_MODES:
            raise Conflict(
                f"Cluster {cluster.name} is read by Rampart directly ({cluster.connection_mode}); "
                "set its connection mode to agent to accept pushes."
            )
        key = request.headers.get("Idempotency-Key")
        if key is not None and not IDEMPOTENCY_KEY.match(key):
            raise exceptions.ValidationError(
                {"Idempotency-Key": ["Use 8-200 characters of letters, digits and . _ : -"]}
            )
        # Read before claiming the key: a repeated key is answered by comparing the bodies.
        data = read_limited(
            request._request, settings.RAMPART_MAX_SNAPSHOT_BYTES, declared_length(request._request)
        )
        if key is None:
            return self._push(cluster, token, data)

        push, replay = self._claim(cluster, token, key, hashlib.sha256(data).hexdigest())
        if replay is not None:
            return replay
        try:
            response = self._push(cluster, token, data)
        except exceptions.APIException as exc:
            # A refusal is the answer to this key too, unless it may succeed when retried.
            if exc.status_code == status.HTTP_429_TOO_MANY_REQUESTS or exc.status_code >= 500:
                AgentPush.objects.filter(pk=push.pk).delete()
            else:
                from posture.api.errors import api_exception_handler

                response = api_exception_handler(exc, {"view": self, "request": request})
                AgentPush.objects.filter(pk=push.pk).update(
                    status_code=response.status_code, response=response.data
                )
            raise
        except Exception:
            AgentPush.objects.filter(pk=push.pk).delete()
            raise
        AgentPush.objects.filter(pk=push.pk).update(
            status_code=response.status_code,
            response=response.data,
            scan_id=(response.data.get("scan") or {}).get("id") if isinstance(response.data, dict) else None,
        )
        return response

    def _claim(self, cluster, token, key, body_sha256: str):
        try:
            with transaction.atomic():
                push = AgentPush.objects.create(
                    cluster=cluster, token=token, idempotency_key=key, request_sha256=body_sha256
                )
                return push, None
        except IntegrityError:
            earlier = AgentPush.objects.get(cluster=cluster, idempotency_key=key)
        # Pushes claimed before the body was hashed at claim time have no hash to compare.
        if earlier.request_sha256 and earlier.request_sha256 != body_sha256:
            raise IdempotencyKeyReused()
        if not earlier.status_code:
            raise PushInProgress()
        response = Response(earlier.response, status=earlier.status_code)
        response["Idempotent-Replayed"] = "true"
        return None, response

    def _push(self, cluster, token, data: bytes) -> Response:
        try:
            snapshot = services.store_snapshot(cluster, data, source=Snapshot.Source.AGENT)
        except services.SnapshotOfAnotherCluster as exc:
            raise SnapshotOfAnotherCluster(f"Snapshot refused: {exc}.") from None
        except services.SnapshotRejected as exc:
            raise exceptions.ValidationError(f"{str(exc)[:1].upper()}{str(exc)[1:]}.") from None
        body = {
            "snapshot": snapshot.pk,
            "sha256": snapshot.sha256,
            "scan": None,
            "document_errors": len(snapshot.errors),
            "paused": None,
        }
        try:
            pausing.ensure_scannable(cluster)
        except pausing.ClusterPaused:
            # Accepted, not refused: the agent's CronJob keeps running through a maintenance window,
            # and a refusal would fail its Jobs (exit 3) and page someone for a pause that was meant.
            # The newest snapshot is kept for the first scan after resuming.
            logger.info(
                "agent push to cluster %s: snapshot %s stored, not scanned (paused)", cluster.pk, snapshot.pk
            )
            return Response({**body, "paused": pause_data(cluster)}, status=status.HTTP_202_ACCEPTED)
        try:
            scan = services.start_scan(cluster, trigger=ScanTrigger.AGENT, snapshot=snapshot)
        except services.ScanAlreadyActive:
            return Response(
                error_body(
                    "conflict",
                    "A scan of this cluster is already queued or running; the snapshot was stored and the "
                    "next scan will read it.",
                    snapshot=snapshot.pk,
                ),
                status=status.HTTP_409_CONFLICT,
            )
        body["scan"] = ScanSerializer(scan).data
        logger.info("agent push to cluster %s: snapshot %s, scan %s", cluster.pk, snapshot.pk, scan.pk)
        return Response(body, status=status.HTTP_202_ACCEPTED)
