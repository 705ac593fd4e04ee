"""The synthetic demo: coloured-shape images, a label system of their tags, a training and a held-out dataset.

Small enough that a tiny RAM trains on it on a laptop CPU in a few minutes; loading it twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from apps.datasets.models import DatasetVersion
from apps.datasets.services.context import run_inline
from apps.datasets.services.imports import ImportOptions, dataset_import_run
from apps.labels.models import LabelSystem, LabelSystemVersion
from apps.labels.services import LabelFiles, label_system_import

DEMO_LABEL_SYSTEM = "demo-shapes"
DEMO_TRAIN = "demo-shapes-train"
DEMO_HELDOUT = "demo-shapes-heldout"


@dataclass(frozen=True)
class DemoData:
    label_system_version: LabelSystemVersion
    train: DatasetVersion
    heldout: DatasetVersion


def demo_label_system(tags: list[str]) -> LabelSystemVersion:
    """The published demo label system (colours and shapes), imported once."""
    system = LabelSystem.objects.filter(name=DEMO_LABEL_SYSTEM).first()
    if system is not None:
        published = system.versions.filter(status="published").order_by("-number").first()
        if published is not None:
            return published
    return label_system_import(name=DEMO_LABEL_SYSTEM, label_files=LabelFiles(tags="\n".join(tags).encode()),
                               description="Colours and shapes of the synthetic demo images", publish=True)


def demo_dataset(*, name: str, seed: int, num_images: int, image_size: int,
                 label_system_version: LabelSystemVersion) -> DatasetVersion:
    """A sealed dataset of ``num_images`` synthetic images, imported from the generator's RAM training JSON
    through the datasets app's import service (reused when it already exists)."""
    from ram_model.synthetic import SyntheticConfig, write_dataset

    existing = DatasetVersion.objects.filter(dataset__name=name, sealed=True).order_by("-seq").first()
    if existing is not None:
        return existing
    folder = Path(settings.LABELHUB_IMAGE_ROOTS[0]) / name
    paths = write_dataset(folder, num_images, seed=seed, config=SyntheticConfig(image_size=image_size))
    options = ImportOptions(dataset_name=name, format="ram-json", paths=[str(paths["train_json"])],
                            image_root=str(folder), label_system_version_id=label_system_version.pk, strict=True,
                            note=f"{num_images} synthetic coloured-shape images (seed {seed})")
    _, result = run_inline(kind="import_dataset", params=options.as_params(), body=dataset_import_run)
    return DatasetVersion.objects.get(pk=result["version_id"])


def demo_data_load(*, num_train: int = 96, num_heldout: int = 32, image_size: int = 64) -> DemoData:
    """Label system + training set (seed 0) + held-out set (seed 1); idempotent."""
    from ram_model.synthetic import SyntheticConfig

    tags = SyntheticConfig(image_size=image_size).tag_list()
    lsv = demo_label_system(tags)
    train = demo_dataset(name=DEMO_TRAIN, seed=0, num_images=num_train, image_size=image_size,
                         label_system_version=lsv)
    heldout = demo_dataset(name=DEMO_HELDOUT, seed=1, num_images=num_heldout, image_size=image_size,
                           label_system_version=lsv)
    return DemoData(lsv, train, heldout)
