from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/verify/", views.LoginVerifyView.as_view(), name="login-verify"),
    path("login/enrol/", views.LoginEnrolView.as_view(), name="login-enrol"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("oidc/login/", views.OidcLoginView.as_view(), name="oidc-login"),
    path("oidc/callback/", views.OidcCallbackView.as_view(), name="oidc-callback"),
    path("security/", views.SecurityView.as_view(), name="security"),
    path("security/mfa/enrol/", views.MfaEnrolView.as_view(), name="mfa-enrol"),
    path("security/mfa/disable/", views.MfaDisableView.as_view(), name="mfa-disable"),
    path("security/mfa/recovery-codes/", views.RecoveryCodesView.as_view(), name="mfa-recovery-codes"),
    path("password/", views.PasswordChangeView.as_view(), name="password-change"),
    path("tokens/", views.TokenListView.as_view(), name="token-list"),
    path("tokens/<int:pk>/revoke/", views.TokenRevokeView.as_view(), name="token-revoke"),
    path("teams/", views.TeamListView.as_view(), name="team-list"),
    path("teams/<int:pk>/", views.TeamDetailView.as_view(), name="team-detail"),
    path("teams/<int:pk>/members/", views.TeamMemberAddView.as_view(), name="team-member-add"),
    path(
        "teams/<int:pk>/members/<int:member_pk>/role/",
        views.TeamMemberRoleView.as_view(),
        name="team-member-role",
    ),
    path(
        "teams/<int:pk>/members/<int:member_pk>/remove/",
        views.TeamMemberRemoveView.as_view(),
        name="team-member-remove",
    ),
    path("audit/", views.AuditEventListView.as_view(), name="audit-list"),
    path("audit/export.csv", views.AuditEventExportView.as_view(), name="audit-export"),
]
