"""API permissions: every endpoint states which Django permission each of its actions needs.

``DenyAll`` is the project default, so an endpoint that forgets to state its rule refuses everybody (and the
endpoint × role test in tests/platform fails until the rule is written down).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.permissions import BasePermission

if TYPE_CHECKING:  # importing these at run time would be circular (DRF loads this module from its settings)
    from rest_framework.request import Request
    from rest_framework.views import APIView


class DenyAll(BasePermission):
    """Refuse every request; views must choose an explicit permission."""

    message = "This endpoint has no permission rule."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return False


class ActionPermissions(BasePermission):
    """Grant an action when the user holds all Django permissions listed for it in ``view.action_permissions``.

    ``action_permissions`` maps a viewset action (``list``, ``retrieve``, ``create``, a custom ``@action``
    name) or an HTTP method in lower case (for plain ``APIView``) to a list of ``app_label.codename``.
    An action missing from the map is refused.
    """

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        required = self.required_permissions(request, view)
        return required is not None and user.has_perms(required)

    @staticmethod
    def required_permissions(request: Request, view: APIView) -> list[str] | None:
        rules: dict[str, list[str]] = getattr(view, "action_permissions", {})
        action = getattr(view, "action", None) or request.method.lower()
        if action == "metadata":  # OPTIONS: describing an endpoint needs the same right as reading it
            action = "list" if "list" in rules else "retrieve" if "retrieve" in rules else "get"
        return rules.get(action)
