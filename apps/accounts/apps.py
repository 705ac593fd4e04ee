from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from .services import roles_sync

        post_migrate.connect(lambda **_: roles_sync(), dispatch_uid="accounts.roles_sync", weak=False)
