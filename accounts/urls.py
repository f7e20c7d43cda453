from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("sign-in/", views.SignInView.as_view(), name="login"),
    path("sign-in/code/", views.two_factor_verify, name="two_factor_verify"),
    path("sign-in/set-up-two-factor/", views.two_factor_enrol, name="two_factor_enrol"),
    path("sign-in/backup-codes/", views.two_factor_backup_codes, name="two_factor_backup_codes"),
    path("sign-out/", views.SignOutView.as_view(), name="logout"),
    path("invitation/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("account/password/", views.password_change, name="password_change"),
    path("account/details/", views.your_details, name="your_details"),
    path("session/keep-alive/", views.session_keep_alive, name="session_keep_alive"),
    path("users/", views.user_list, name="user_list"),
    path("users/invite/", views.user_invite, name="user_invite"),
    path("users/invitations/", views.invitation_list, name="invitation_list"),
    path("users/invitations/<int:invitation_id>/resend/", views.invitation_resend, name="invitation_resend"),
    path("users/<int:user_id>/", views.user_detail, name="user_detail"),
    path("users/<int:user_id>/roles/grant/", views.user_role_change, {"change": "grant"}, name="user_role_grant"),
    path("users/<int:user_id>/roles/revoke/", views.user_role_change, {"change": "revoke"}, name="user_role_revoke"),
    path("users/<int:user_id>/training/", views.user_training, name="user_training"),
    path("users/<int:user_id>/expiry/", views.user_expiry, name="user_expiry"),
    path("users/<int:user_id>/<slug:action>/", views.user_action, name="user_action"),
    path("outbox/given-up/", views.outbox_given_up, name="outbox_given_up"),
    path("outbox/given-up/<int:email_id>/send-again/", views.outbox_send_again, name="outbox_send_again"),
]
