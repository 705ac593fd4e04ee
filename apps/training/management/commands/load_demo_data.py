"""``python manage.py load_demo_data``: the synthetic demo label system and datasets (idempotent)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.training.demo import demo_data_load


class Command(BaseCommand):
    help = ("Create the synthetic demo: a 'demo-shapes' label system (colours and shapes), a training dataset "
            "and a held-out dataset of generated images under the first image root. Running it again is a no-op.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--train-images", type=int, default=96)
        parser.add_argument("--heldout-images", type=int, default=32)
        parser.add_argument("--image-size", type=int, default=64)

    def handle(self, *args, **options) -> None:
        try:
            demo = demo_data_load(num_train=options["train_images"], num_heldout=options["heldout_images"],
                                  image_size=options["image_size"])
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(
            f"demo label system version {demo.label_system_version.pk} ({demo.label_system_version}); "
            f"training dataset version {demo.train.pk} ({demo.train.counts.get('images', 0)} images); "
            f"held-out dataset version {demo.heldout.pk} ({demo.heldout.counts.get('images', 0)} images)")
