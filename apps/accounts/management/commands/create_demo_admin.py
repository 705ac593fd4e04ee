"""Create the demo admin of the embedded set-up and print its password."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from apps.accounts.roles import ADMIN
from apps.accounts.services import user_create


class Command(BaseCommand):
    help = "Create (once) a superuser 'admin' in the admin role and print its password (kept in var/)."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username: str, **options) -> None:
        password_file = settings.VAR_DIR / "demo-admin-password.txt"
        user_model = get_user_model()
        if user_model.objects.filter(username=username).exists() and password_file.exists():
            password = password_file.read_text().strip()
        else:
            password = secrets.token_urlsafe(12)
            user = user_model.objects.filter(username=username).first()
            if user is None:
                user_create(username=username, password=password, roles=[ADMIN], is_superuser=True)
            else:
                user.set_password(password)
                user.save(update_fields=["password"])
            password_file.parent.mkdir(parents=True, exist_ok=True)
            password_file.write_text(password + "\n")
            password_file.chmod(0o600)
        self.stdout.write(f"demo admin: username '{username}', password '{password}'")
