"""Personal API tokens: create (plaintext shown once), list, revoke."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View

from accounts import clock, once, services
from accounts.forms import (
    TokenCreateForm,
)
from accounts.models import ApiToken
from accounts.views.common import private

# --- API tokens ------------------------------------------------------------------

ONCE_KEY = "token_form_once"


@private
class TokenListView(LoginRequiredMixin, View):
    template_name = "accounts/token_list.html"

    def get(self, request):
        return self._page(request, TokenCreateForm())

    def post(self, request):
        form = TokenCreateForm(request.POST)
        if not form.is_valid():
            return self._page(request, form)
        if not once.use(request, ONCE_KEY, request.POST.get("once", "")):
            # A reload re-sends the form: say so rather than mint a second token.
            messages.info(
                request, "That form was already sent: the token is in the list; its secret was shown once."
            )
            return redirect("accounts:token-list")
        token, plaintext = services.create_token(
            request.user, form.cleaned_data["name"], form.cleaned_data["scope"], form.expires_at
        )
        # The plaintext is in this response only; a reload shows the list without it.
        return self._page(request, TokenCreateForm(), new_token=token, plaintext=plaintext, status=201)

    def _page(self, request, form, new_token=None, plaintext=None, status=200):
        tokens = ApiToken.objects.filter(user=request.user)
        now = clock.now()
        rows = [
            {
                "token": token,
                "state": "revoked"
                if token.revoked_at
                else ("expired" if token.expires_at and token.expires_at <= now else "active"),
            }
            for token in tokens
        ]
        context = {
            "form": form,
            "rows": rows,
            "new_token": new_token,
            "plaintext": plaintext,
            "once": once.issue(request, ONCE_KEY),
        }
        return render(request, self.template_name, context, status=status)


@private
class TokenRevokeView(LoginRequiredMixin, View):
    def post(self, request, pk: int):
        # Scoped to the owner: another user's token is a 404, not a 403, so ids reveal nothing.
        token = get_object_or_404(ApiToken, pk=pk, user=request.user)
        if services.revoke_token(token, actor=request.user):
            messages.success(request, f"Token “{token.name}” revoked. It stops working immediately.")
        return redirect("accounts:token-list")
