"""``python manage.py register_checkpoint PATH --variant ram --size swin_l_384``: add a checkpoint file (e.g. an
official RAM release) to the registry, so it can be evaluated, fine-tuned from or extended with new tags."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.labels.models import LabelSystemVersion
from apps.training.models import ModelSize, ModelVariant
from apps.training.services import checkpoint_register


class Command(BaseCommand):
    help = __doc__.split("\n")[0].strip('`"')

    def add_arguments(self, parser) -> None:
        parser.add_argument("path")
        parser.add_argument("--name", default="")
        parser.add_argument("--variant", choices=ModelVariant.values, default=ModelVariant.RAM)
        parser.add_argument("--size", choices=ModelSize.values, default=ModelSize.SWIN_L_384)
        parser.add_argument("--label-system-version", type=int, default=None,
                            help="id of the label-system version whose tags are the head's classes")

    def handle(self, *args, **options) -> None:
        lsv = None
        if options["label_system_version"] is not None:
            lsv = LabelSystemVersion.objects.filter(pk=options["label_system_version"]).first()
            if lsv is None:
                raise CommandError(f"no label system version with id {options['label_system_version']}")
        try:
            checkpoint = checkpoint_register(path=options["path"], name=options["name"], variant=options["variant"],
                                             size=options["size"], label_system_version=lsv)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"checkpoint {checkpoint.pk}: {checkpoint.name} ({checkpoint.model_name}) {checkpoint.path}")
