from django import forms
from django.conf import settings
from django.utils import timezone

from accounts.forms import TokenExpiryForm
from accounts.models import Role, Team
from accounts.permissions import teams_with_role
from posture import cluster_check_settings, pausing, schedules, services
from posture.models import Cluster, ConnectionMode
from posture.models.agents import EXPIRY_WARNING
from posture.models.clusters import (
    MAX_PAUSE_REASON_LENGTH,
    MAX_SCAN_INTERVAL_MINUTES,
    MIN_SCAN_INTERVAL_MINUTES,
    NAME_TAKEN,
)
from posture.scanning.checks.options import OPTIONS
from posture.scanning.collectors.connection import InvalidConnection, connection_from
from posture.scanning.collectors.kubeconfig import MAX_KUBECONFIG_BYTES, kubeconfig_text

STORED = "stored — leave empty to keep"


class ScheduleFields(forms.ModelForm):
    """Interval or cron: one of them, or neither (scans only on demand)."""

    # Declared rather than generated: the model's PositiveIntegerField would give the form a minimum
    # of 0, so that -5 and 1 were refused with different minimums and neither said 5.
    scan_interval_minutes = forms.IntegerField(
        label="Scan every (minutes)",
        required=False,
        min_value=MIN_SCAN_INTERVAL_MINUTES,
        max_value=MAX_SCAN_INTERVAL_MINUTES,
        help_text=f"Scan automatically this often ({MIN_SCAN_INTERVAL_MINUTES} minutes or more); "
        "empty means only on demand.",
        error_messages={
            "min_value": f"Scans are at least {MIN_SCAN_INTERVAL_MINUTES} minutes apart: "
            f"give {MIN_SCAN_INTERVAL_MINUTES} or more, or leave it empty."
        },
    )

    def clean(self):
        cleaned = super().clean()
        interval, cron = cleaned.get("scan_interval_minutes"), (cleaned.get("scan_cron") or "").strip()
        if interval and cron:
            raise forms.ValidationError("Give either an interval or a cron expression, not both.")
        if cron:
            try:
                schedules.parse_cron(cron)
            except schedules.InvalidCron as exc:
                self.add_error("scan_cron", f"Not a valid schedule: {exc}.")
        cleaned["scan_cron"] = " ".join(cron.split())
        return cleaned


OPTION_PREFIX = "option_"


def check_option_fields(values: dict) -> dict[str, forms.Field]:
    """A field per check option (posture/scanning/checks/options.py), showing the cluster's value;
    empty means the deployment's value or the option's default."""
    fields = {}
    for spec in OPTIONS.values():
        label = spec.name.replace("_", " ").capitalize()
        help_text = spec.description.replace("`", "")  # written for docs/checks.md's Markdown
        value = values.get(spec.name)
        if spec.kind == "days":
            field = forms.IntegerField(
                required=False, min_value=1, max_value=100_000, label=label, help_text=help_text,
                widget=forms.NumberInput(attrs={"placeholder": str(spec.default)}),
            )  # fmt: skip
            field.initial = value
        else:
            placeholder = "\n".join(map(str, spec.default)) if spec.default else "one per line"
            field = forms.CharField(
                required=False, label=label, help_text=help_text,
                widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "placeholder": placeholder}),
            )  # fmt: skip
            field.initial = "\n".join(map(str, value or ()))
        fields[OPTION_PREFIX + spec.name] = field
    return fields


def _option_from_field(kind: str, value):
    """A field's value as cluster_check_settings.validated takes it: lists from lines, ports as ints."""
    if kind == "days":
        return value
    items = [line.strip() for line in (value or "").splitlines() if line.strip()]
    if kind == "ports":
        return [int(item) if item.isascii() and item.isdigit() else item for item in items]
    return items


class WriteOnlyTextarea(forms.Textarea):
    """A textarea that never renders a value back, like PasswordInput(render_value=False):
    a form shown again (a validation error, Test connection) must not echo a kubeconfig."""

    def format_value(self, value):
        return None


class ClusterForm(ScheduleFields):
    """Register or edit a cluster. Credentials are write-only: never rendered back.

    ``self.credentials`` after validation: the new secret (kubeconfig text or
    bearer token), "" to clear, or None to keep what is stored.
    """

    kubeconfig_file = forms.FileField(
        required=False,
        label="Kubeconfig file",
        help_text="A self-contained kubeconfig (kubectl config view --raw --flatten --minify).",
    )
    kubeconfig_text = forms.CharField(
        required=False,
        label="…or paste the kubeconfig",
        widget=WriteOnlyTextarea(attrs={"rows": 6, "autocomplete": "off", "spellcheck": "false"}),
    )
    api_url = forms.URLField(
        required=False,
        assume_scheme="https",
        label="API server URL",
        widget=forms.URLInput(attrs={"placeholder": "https://203.0.113.10:6443"}),
    )
    disabled_checks = forms.MultipleChoiceField(
        required=False,
        label="Checks switched off for this cluster",
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text="Switched-off checks do not run, so they neither fail nor count towards the score.",
    )
    token = forms.CharField(
        required=False,
        label="Bearer token",
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=(
            "A token of the list-only scanner account (deploy/kubernetes): "
            "kubectl create token rampart-scanner -n rampart --duration 8760h"
        ),
    )

    without_connection = forms.BooleanField(
        required=False,
        label="Save even if Rampart cannot connect to it now",
        help_text="Saving tries the connection first. Tick this for a cluster that is not reachable yet: "
        "its scans fail until it is.",
    )

    severity_overrides = forms.CharField(
        required=False,
        label="Severity overrides",
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "placeholder": "latest-tag: low"}),
        help_text="One “check-id: level” per line; levels: critical, high, medium, low, info.",
    )

    LIVE_FIELDS = {
        ConnectionMode.KUBECONFIG: ("kubeconfig_file", "kubeconfig_text", "kube_context"),
        ConnectionMode.TOKEN: ("api_url", "token", "ca_bundle"),
    }

    class Meta:
        model = Cluster
        fields = [
            "name",
            "team",
            "description",
            "connection_mode",
            "api_url",
            "ca_bundle",
            "kube_context",
            "scan_interval_minutes",
            "scan_cron",
        ]
        labels = {
            "api_url": "API server URL",
            "ca_bundle": "CA certificate (PEM)",
            "kube_context": "Kubeconfig context",
            "scan_cron": "…or on a cron schedule (UTC)",
        }
        help_texts = {
            "ca_bundle": "Empty: the system's trusted CAs.",
            "kube_context": "Empty: the kubeconfig's current-context.",
        }
        widgets = {"ca_bundle": forms.Textarea(attrs={"rows": 4, "spellcheck": "false"})}

    def __init__(self, *args, user, checks=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.credentials: str | None = None
        # What trying the connection before saving found (None: not tried); the page shows it.
        self.connection_report = None
        self.fields["disabled_checks"].choices = [
            (check.id, f"{check.id}: {check.title}") for check in checks
        ]
        own = self.instance.check_settings or {}
        self.fields["disabled_checks"].initial = list(own.get("disabled", []))
        self.fields["severity_overrides"].initial = cluster_check_settings.severity_lines(
            own.get("severity", {})
        )
        for name, field in check_option_fields(own.get("options", {})).items():
            self.fields[name] = field
        self.check_settings: dict = own
        teams = Team.objects.filter(id__in=teams_with_role(user, Role.ADMIN))
        self.fields["team"].queryset = teams
        if not self.instance.pk and len(admin_of := list(teams[:2])) == 1:
            self.fields["team"].initial = admin_of[0].pk  # the only team this admin can register for
        self.fields["connection_mode"].widget.attrs["data-mode-switch"] = ""
        if self.instance.pk and self.instance.has_credentials:
            # Say that something is stored, never what.
            for name in ("kubeconfig_text", "token"):
                self.fields[name].widget.attrs["placeholder"] = STORED
            self.fields["kubeconfig_file"].help_text = f"A kubeconfig is {STORED}."

    def _kubeconfig(self) -> str:
        upload = self.cleaned_data.get("kubeconfig_file")
        if upload:
            # Read as "Test connection" reads it, so that both say the same about a file.
            try:
                return kubeconfig_text(upload.read(MAX_KUBECONFIG_BYTES + 1))
            except InvalidConnection as exc:
                raise forms.ValidationError({"kubeconfig_file": _sentence(str(exc))}) from None
        return (self.cleaned_data.get("kubeconfig_text") or "").strip()

    @property
    def option_fields(self) -> list:
        return [self[name] for name in self.fields if name.startswith(OPTION_PREFIX)]

    @property
    def check_settings_open(self) -> bool:
        """Whether the page opens the check settings: they hold something, or a refusal."""
        names = ["disabled_checks", "severity_overrides", *(f.name for f in self.option_fields)]
        return any(self[name].errors for name in names) or any((self.instance.check_settings or {}).values())

    def _clean_check_settings(self, cleaned: dict) -> None:
        """The cluster's own check settings, validated as the API validates them."""
        try:
            severity = cluster_check_settings.parse_severity_lines(cleaned.get("severity_overrides") or "")
        except ValueError as exc:
            self.add_error("severity_overrides", str(exc))
            return
        options = {}
        for field_name, value in cleaned.items():
            if field_name.startswith(OPTION_PREFIX):
                name = field_name.removeprefix(OPTION_PREFIX)
                options[name] = _option_from_field(OPTIONS[name].kind, value)
        try:
            own = cluster_check_settings.validated(cleaned.get("disabled_checks") or (), severity, options)
        except cluster_check_settings.InvalidSettings as exc:
            fields = {"disabled": "disabled_checks", "severity": "severity_overrides", "options": None}
            for key, messages in exc.problems.items():
                for message in messages:
                    self.add_error(fields.get(key, OPTION_PREFIX + key), message)
            return
        self.check_settings = own

    def clean(self):
        cleaned = super().clean()
        self._clean_check_settings(cleaned)
        name, team = cleaned.get("name"), cleaned.get("team")
        if name and team and services.cluster_name_taken(team.pk, name, other_than=self.instance.pk):
            self.add_error("name", NAME_TAKEN)
        mode = cleaned.get("connection_mode")
        had_credentials = bool(self.instance.pk and self.instance.has_credentials)
        usable = services.stored_credentials_usable(
            self.instance if self.instance.pk else None,
            mode,
            api_url=cleaned.get("api_url") or "",
            ca_bundle=cleaned.get("ca_bundle") or "",
        )
        stored = self.instance.get_credentials() if usable else ""
        if mode == ConnectionMode.KUBECONFIG:
            text = self._kubeconfig()
            if not text and not stored:
                self.add_error("kubeconfig_file", "Upload or paste the cluster's kubeconfig.")
                return cleaned
            self._check_connection(
                mode,
                "kubeconfig_file",
                credentials=text or stored,
                kube_context=cleaned.get("kube_context", ""),
            )
            self.credentials = text or None
            self._try_connection(mode, cleaned, credentials=text or stored, typed=bool(text))
        elif mode == ConnectionMode.TOKEN:
            token = cleaned.get("token") or ""
            if not token and not stored:
                moved = had_credentials and self.instance.connection_mode == mode
                self.add_error(
                    "token",
                    "The API server or CA changed: give the token again (a stored token is only sent "
                    "where it was first given)."
                    if moved
                    else "Give the bearer token Rampart reads the cluster with.",
                )
                return cleaned
            self._check_connection(
                mode,
                "token",
                api_url=cleaned.get("api_url") or "",
                credentials=token or stored,
                ca_bundle=cleaned.get("ca_bundle") or "",
            )
            self.credentials = token or None
            self._try_connection(mode, cleaned, credentials=token or stored, typed=bool(token))
        else:
            # Snapshot, agent and in-cluster modes keep no secret.
            self.credentials = "" if had_credentials else None
        return cleaned

    def save(self, commit=True):
        cluster = super().save(commit=False)
        cluster.check_settings = self.check_settings
        if commit:
            cluster.save()
        return cluster

    def _try_connection(self, mode, cleaned, *, credentials: str, typed: bool) -> None:
        """Reach the cluster before saving settings that change how Rampart reaches it, so that a wrong
        token or CA is said now rather than by the first scan. "without_connection" saves anyway."""
        if self.errors:
            return  # the form's own mistakes first: no one waits on the network to learn of a typo
        settings = {
            "api_url": cleaned.get("api_url") or "",
            "ca_bundle": cleaned.get("ca_bundle") or "",
            "kube_context": cleaned.get("kube_context") or "",
        }
        instance = self.instance if self.instance.pk else None
        if not services.connection_changed(instance, mode, new_credentials=typed, **settings):
            return
        report = services.try_cluster_connection(mode, credentials=credentials, **settings)
        self.connection_report = report
        team = cleaned.get("team") or self.instance.team
        try:
            services.refuse_registering_twice(
                team.pk, report.kube_system_uid, other_than=instance.pk if instance else None
            )
        except services.AlreadyRegistered as exc:
            self.add_error(None, f"{'Not saved' if instance else 'Not registered'}: {exc}.")
            return
        if report.ok or cleaned.get("without_connection"):
            return
        again = {ConnectionMode.TOKEN: " and give the token again", ConnectionMode.KUBECONFIG: (
            " and give the kubeconfig again")}[mode] if typed else ""  # fmt: skip
        self.add_error(
            None,
            f"{'Not saved' if instance else 'Not registered'}: Rampart could not connect "
            f"({report.error}). Fix the settings, or tick “{self.fields['without_connection'].label}”"
            f"{again}.",
        )

    def _check_connection(self, mode, field, **values) -> None:
        """Problems in the settings themselves (no network): one line under the field they concern."""
        try:
            connection_from(mode, **values)
        except InvalidConnection as exc:
            message = str(exc)
            target = field
            if "API URL" in message:
                target = "api_url"
            elif "CA bundle" in message:
                target = "ca_bundle"
            elif "context" in message and mode == ConnectionMode.KUBECONFIG:
                # The reader's message already names the contexts there are to choose from.
                target = "kube_context"
            self.add_error(target, _sentence(message))


def _sentence(message: str) -> str:
    """A collector's message ("the kubeconfig is empty") as a line under a field."""
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


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


class IngestTokenForm(TokenExpiryForm):
    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="Where the token will live, e.g. “cronjob in prod-eu”: it names the token in the list.",
    )

    field_order = ["name", "expires_on"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["expires_on"].help_text = (
            "Optional. The agent's pushes are refused from the start of this day; the cluster's pages warn "
            f"{EXPIRY_WARNING.days} days ahead, so that a new token can be put in the agent's Secret in time."
        )


class ClusterPauseForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        required=False,
        max_length=MAX_PAUSE_REASON_LENGTH,
        help_text="Shown on the cluster's page and in the audit log, e.g. “node pool rebuild”.",
    )
    until = forms.DateTimeField(
        label="Resume by itself at",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=f"Optional, in {settings.TIME_ZONE}: the end of a maintenance window. Empty: until resumed "
        "by hand.",
    )

    def clean_reason(self):
        try:
            return pausing.clean_reason(self.cleaned_data["reason"])
        except pausing.InvalidPauseReason as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_until(self):
        try:
            return pausing.check_until(self.cleaned_data["until"], timezone.now())
        except pausing.InvalidPauseReason as exc:
            raise forms.ValidationError(str(exc)) from None
