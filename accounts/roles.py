"""The roles a user can hold, and what each one is allowed to do where.

A role is a Django group (what the user may do). Where a role acts on one local
authority's data, the user also holds an object permission on that LocalAuthority
(django-guardian): that is the scope. Roles granted without an authority are national.
"""

from django.db import models


class Role(models.TextChoices):
    PRACTITIONER = "practitioner", "Practitioner"
    REGISTER_MANAGER = "register_manager", "Register manager"
    LA_USER_ADMIN = "la_user_admin", "Local authority user admin"
    AUDITOR = "auditor", "Auditor"
    FEED_OPERATOR = "feed_operator", "Feed operator"
    SYSTEM_ADMINISTRATOR = "system_administrator", "System administrator"


# The object permission on LocalAuthority that scopes each role. A role absent here is not
# scoped to an authority (practitioners search nationally; feeds and system administration
# are national).
SCOPE_PERMISSION: dict[str, str] = {
    Role.REGISTER_MANAGER: "manage_register",
    Role.LA_USER_ADMIN: "manage_users",
    Role.AUDITOR: "audit_access",
}

# Roles that must be held with an authority scope; an auditor may be national.
ROLES_REQUIRING_SCOPE = frozenset({Role.REGISTER_MANAGER, Role.LA_USER_ADMIN})
