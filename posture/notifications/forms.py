"""The notification endpoint form, shared by Rampart's Notifications page and Django's admin.

The URL (for Slack, a credential in itself) and the signing secret are write-only: the form
takes them and never renders them back.
"""

from django import forms

from posture.models import NotificationEndpoint, NotificationEvent
from posture.models.notifications import ENDPOINT_NAME_TAKEN
from posture.notifications.delivery import url_refusal
from posture.notifications.service import endpoint_name_taken


class NotificationEndpointForm(forms.ModelForm):
    url = forms.URLField(
        label="Webhook URL",
        required=False,
        assume_scheme="https",
        max_length=2000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Write-only: never shown again. Leave empty to keep the stored URL.",
    )
    secret = forms.CharField(
        label="Signing secret",
        required=False,
        min_length=16,
        max_length=200,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Generic webhooks: messages are signed with HMAC-SHA256 of it (16 characters or more). "
        "Write-only; leave empty to keep.",
    )
    events = forms.MultipleChoiceField(
        choices=NotificationEvent.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every event.",
    )

    class Meta:
        model = NotificationEndpoint
        fields = ["team", "name", "kind", "events", "enabled"]

    def __init__(self, *args, teams=None, **kwargs):
        super().__init__(*args, **kwargs)
        if teams is not None:  # Rampart's page: only the teams the user administers
            self.fields["team"].queryset = teams
            # One team: chosen already. Several: the admin chooses (no team picked by the alphabet).
            self.fields["team"].empty_label = None if len(teams) == 1 else "Choose a team…"
        if self.instance.pk:
            self.fields["team"].disabled = True  # an endpoint never moves to another team

    def clean_url(self):
        url = self.cleaned_data.get("url") or ""
        if not url and not self.instance.pk:
            raise forms.ValidationError("Give the webhook URL.")
        refusal = url_refusal(url) if url else None
        if refusal:
            raise forms.ValidationError(refusal)
        return url

    def clean(self):
        cleaned = super().clean()
        team, name = cleaned.get("team"), cleaned.get("name")
        if team and name and endpoint_name_taken(team.pk, name, other_than=self.instance.pk):
            self.add_error("name", ENDPOINT_NAME_TAKEN)
        return cleaned
