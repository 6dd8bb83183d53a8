from datetime import datetime, time

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.models import Membership, Role, Team
from accounts.permissions import teams_with_role
from findings.models import ExceptionRule, FindingStatus
from posture.models import Cluster

S = FindingStatus

# What a user can ask for, and how the outcome reads ("12 acknowledged").
STATUS_ACTIONS = {
    S.ACKNOWLEDGED: "acknowledged",
    S.RISK_ACCEPTED: "accepted as a risk",
    S.FALSE_POSITIVE: "marked false positive",
    S.OPEN: "reopened",
}


def _midnight(day) -> datetime | None:
    return timezone.make_aware(datetime.combine(day, time.min)) if day else None


class DateInput(forms.DateInput):
    input_type = "date"


def assignable_users(team_ids):
    """Engineers and admins of these teams: the people findings can be assigned to."""
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            memberships__team_id__in=list(team_ids),
            memberships__role__in=[Role.ENGINEER, Role.ADMIN],
        )
        .distinct()
        .order_by("username")
    )


class StatusChangeForm(forms.Form):
    to_status = forms.ChoiceField(choices=[(status.value, status.label) for status in STATUS_ACTIONS])
    reason = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    until = forms.DateField(required=False, widget=DateInput, label="Accepted until")

    def clean_until(self):
        return _midnight(self.cleaned_data.get("until"))


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(queryset=None, required=False, empty_label="Unassigned")

    def __init__(self, *args, team_ids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignable_users(team_ids)


# What the bulk bar offers, said as what it does (the status names read as if already done).
BULK_LABELS = {
    S.ACKNOWLEDGED: "Acknowledge",
    S.RISK_ACCEPTED: "Accept the risk…",
    S.FALSE_POSITIVE: "Mark false positive…",
    S.OPEN: "Reopen",
}


class BulkActionForm(StatusChangeForm):
    ASSIGN = "assign"

    # No default: Apply with the first choice preselected unassigned findings by surprise.
    action = forms.ChoiceField(
        choices=[
            ("", "Choose…"),
            (ASSIGN, "Assign to…"),
            *((status.value, BULK_LABELS[status]) for status in STATUS_ACTIONS),
        ],
        error_messages={"required": "choose what to do with the selected findings."},
    )
    to_status = None
    assignee = forms.ModelChoiceField(queryset=None, required=False, empty_label="Nobody (unassign)")

    def __init__(self, *args, team_ids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignable_users(team_ids)


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Add a comment", max_length=10_000, widget=forms.Textarea(attrs={"rows": 3}), strip=True
    )


class ExceptionRuleForm(forms.ModelForm):
    """An exception rule as an admin writes it; findings.services.create_exception_rule has the last word."""

    check_ids = forms.MultipleChoiceField(
        required=False,
        label="Checks",
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text="None selected: every check.",
    )
    labels = forms.CharField(
        required=False,
        label="Object labels",
        help_text="key=value, comma-separated; every pair must match (e.g. app=legacy, tier=batch).",
    )
    expires = forms.DateField(widget=DateInput, label="Expires on")

    class Meta:
        model = ExceptionRule
        fields = ["team", "cluster", "namespace_pattern", "name_pattern", "reason", "owner"]
        labels = {
            "cluster": "Cluster",
            "namespace_pattern": "Namespaces",
            "name_pattern": "Object names",
        }
        help_texts = {
            "cluster": "Empty: every cluster of the team.",
            "namespace_pattern": "A glob such as team-* ; empty: every namespace.",
            "name_pattern": "A glob such as legacy-* ; empty: every object.",
            "reason": "Why this risk is accepted, for the next person who reads it.",
        }
        widgets = {"reason": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user, checks, **kwargs):
        super().__init__(*args, **kwargs)
        team_ids = list(teams_with_role(user, Role.ADMIN))
        self.fields["team"].queryset = Team.objects.filter(id__in=team_ids)
        if len(team_ids) == 1:
            self.fields["team"].initial = team_ids[0]  # the only team this admin can make exceptions for
        self.fields["cluster"].queryset = Cluster.objects.filter(team_id__in=team_ids)
        self.fields["cluster"].required = False
        self.fields["owner"].queryset = (
            get_user_model().objects.filter(memberships__team_id__in=team_ids, is_active=True).distinct()
        )
        self.fields["owner"].initial = user.pk
        self.fields["check_ids"].choices = [(check.id, f"{check.id}: {check.title}") for check in checks]
        self.fields[
            "expires"
        ].help_text = f"At most {settings.RAMPART_MAX_RISK_ACCEPTANCE_DAYS} days from today."

    def clean_labels(self):
        selector = {}
        for pair in (self.cleaned_data.get("labels") or "").split(","):
            if not pair.strip():
                continue
            key, sep, value = pair.partition("=")
            if not sep or not key.strip():
                raise forms.ValidationError(f"“{pair.strip()}” is not key=value.")
            if key.strip() in selector:
                raise forms.ValidationError(
                    f"“{key.strip()}” is given twice: an object has one value per label."
                )
            selector[key.strip()] = value.strip()
        return selector

    def clean(self):
        cleaned = super().clean()
        owner, team = cleaned.get("owner"), cleaned.get("team")
        if owner and team and not Membership.objects.filter(user=owner, team=team).exists():
            self.add_error("owner", f"{owner} is not a member of {team}.")
        return cleaned

    def save(self, commit=False):
        rule = super().save(commit=False)
        rule.check_ids = sorted(self.cleaned_data.get("check_ids") or [])
        rule.label_selector = self.cleaned_data.get("labels") or {}
        rule.expires_at = _midnight(self.cleaned_data.get("expires"))
        return rule
