"""Writes for users and roles."""

from __future__ import annotations

from fnmatch import fnmatchcase

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group, Permission
from django.db import transaction

from .roles import ROLE_PERMISSIONS


def _matching_permissions(patterns: list[str]) -> list[Permission]:
    permissions = Permission.objects.select_related("content_type")
    return [
        perm
        for perm in permissions
        if any(fnmatchcase(f"{perm.content_type.app_label}.{perm.codename}", p) for p in patterns)
    ]


@transaction.atomic
def roles_sync() -> dict[str, int]:
    """Create or update one group per role with exactly the permissions of ``ROLE_PERMISSIONS``."""
    counts = {}
    for role, patterns in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = _matching_permissions(patterns)
        group.permissions.set(permissions)
        counts[role] = len(permissions)
    return counts


@transaction.atomic
def user_create(*, username: str, password: str | None, roles: list[str] = (), email: str = "",
                is_superuser: bool = False) -> AbstractUser:
    """Create a user in the given roles (groups)."""
    user_model = get_user_model()
    if is_superuser:
        user = user_model.objects.create_superuser(username=username, email=email, password=password)
    else:
        user = user_model.objects.create_user(username=username, email=email, password=password)
    if roles:
        user.groups.set(Group.objects.filter(name__in=roles))
    return user
