from django import forms
from django.conf import settings

from accounts.models import Role, Team
from accounts.permissions import teams_with_role
from posture.models import Cluster, ConnectionMode


class ClusterForm(forms.ModelForm):
    class Meta:
        model = Cluster
        fields = ["name", "team", "description", "connection_mode", "scan_interval_minutes"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.filter(id__in=teams_with_role(user, Role.ADMIN))
        # Live modes arrive with the live collector; until then only snapshots are offered.
        self.fields["connection_mode"].choices = [(ConnectionMode.SNAPSHOT, ConnectionMode.SNAPSHOT.label)]


class SnapshotUploadForm(forms.Form):
    file = forms.FileField(
        label="Snapshot",
        help_text="YAML or JSON (kubectl get -o json/yaml), optionally gzip-compressed.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.RAMPART_MAX_SNAPSHOT_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"The snapshot is larger than the {limit // (1024 * 1024)} MiB limit."
            )
        return upload
