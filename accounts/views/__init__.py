"""Account pages. Thin: forms in, a service call, a page or a redirect out."""

from accounts.views.audit import AuditEventExportView, AuditEventListView
from accounts.views.login import LoginEnrolView, LoginVerifyView, LoginView, LogoutView
from accounts.views.security import (
    MfaDisableView,
    MfaEnrolView,
    PasswordChangeView,
    RecoveryCodesView,
    SecurityView,
)
from accounts.views.sso import OidcCallbackView, OidcLoginView
from accounts.views.teams import (
    TeamDetailView,
    TeamListView,
    TeamMemberAddView,
    TeamMemberRemoveView,
    TeamMemberRoleView,
)
from accounts.views.tokens import TokenListView, TokenRevokeView

__all__ = [
    "AuditEventExportView",
    "AuditEventListView",
    "LoginEnrolView",
    "LoginVerifyView",
    "LoginView",
    "LogoutView",
    "MfaDisableView",
    "MfaEnrolView",
    "OidcCallbackView",
    "OidcLoginView",
    "PasswordChangeView",
    "RecoveryCodesView",
    "SecurityView",
    "TeamDetailView",
    "TeamListView",
    "TeamMemberAddView",
    "TeamMemberRemoveView",
    "TeamMemberRoleView",
    "TokenListView",
    "TokenRevokeView",
]
