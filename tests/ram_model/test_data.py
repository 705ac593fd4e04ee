"""Training data: RAM JSON records, the dataset's samples, shards, sampler, captions and transforms."""

import json

import pytest
import torch
from PIL import Image
from torch.utils.data import DistributedSampler

from ram_model.data.captions import pre_caption
from ram_model.data.dataset import RamTrainingDataset, collate_samples
from ram_model.data.records import RecordError, load_ram_json
from ram_model.data.sampler import ResumableDistributedSampler
from ram_model.data.shards import write_shards
from ram_model.data.transforms import CLIP_MEAN, CLIP_STD, RAND_AUGMENT_OPS, TrainTransform, random_resized_crop_box
from ram_model.synthetic import write_dataset

PLAIN = TrainTransform(size=32, scale=(1.0, 1.0), ratio=(1.0, 1.0), hflip=False, randaugment=False)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    return write_dataset(tmp_path_factory.mktemp("syn"), 8, seed=4)


def _dataset(paths, transform=PLAIN, **kwargs):
    tags = paths["tag_list"].read_text().split("\n")
    return RamTrainingDataset.from_json(
        [paths["train_json"]], num_classes=len(tags), tag_names=tags, transform=transform, **kwargs
    )


def test_pre_caption_cleans_and_truncates():
    assert pre_caption('A Dog (brown)!  runs: "fast"...', max_words=30) == "a dog brown runs fast"
    assert pre_caption("one two three four", max_words=2) == "one two"


def test_record_errors_name_file_record_and_field(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"image_path": "a.jpg", "caption": ["x"], "union_label_id": [1, 99]}]))
    with pytest.raises(RecordError, match=r"bad.json: record 0: field 'union_label_id'.*\[99\]"):
        load_ram_json([bad], "", 10)


def test_parse_ids_default_to_union_and_string_caption_is_accepted(tmp_path):
    file = tmp_path / "one.json"
    file.write_text(json.dumps([{"image_path": "x.png", "caption": "a cat", "union_label_id": [2]}]))
    (record,) = load_ram_json([file], "/imgs", 5)
    assert record.captions == ("a cat",) and record.parse_label_id == ((2,),)
    assert record.image == "/imgs/x.png"


def test_sample_holds_image_targets_caption_and_tag_text(synthetic):
    dataset = _dataset(synthetic)
    record = json.loads(synthetic["train_json"].read_text())[0]
    sample = dataset[0]
    assert sample["image"].shape == (3, 32, 32)
    assert sample["target"].nonzero().flatten().tolist() == record["union_label_id"]
    assert sample["caption"] in record["caption"]
    names = [dataset.tag_names[i] for i in record["union_label_id"]]
    assert sample["tag_text"] == " | ".join(names)


def test_samples_are_reproducible_per_epoch_and_change_between_epochs(synthetic):
    augmenting = TrainTransform(size=32)
    dataset = _dataset(synthetic, augmenting, seed=1)
    first = dataset[3]["image"]
    assert torch.equal(first, dataset[3]["image"])
    dataset.set_epoch(1)
    assert not torch.equal(first, dataset[3]["image"])


def test_teacher_copy_is_a_224_crop(synthetic):
    dataset = _dataset(synthetic, teacher_transform=TrainTransform(size=224))
    assert dataset[0]["image_224"].shape == (3, 224, 224)


def test_shards_give_the_same_samples_as_the_json(synthetic, tmp_path):
    records = json.loads(synthetic["train_json"].read_text())
    root = synthetic["train_json"].parent
    pairs = [(root / r["image_path"], {k: v for k, v in r.items() if k != "image_path"}) for r in records]
    shards = write_shards(pairs, str(tmp_path / "shard-%06d.tar"), samples_per_shard=3)
    assert len(shards) == 3
    tags = synthetic["tag_list"].read_text().split("\n")
    from_shards = RamTrainingDataset.from_shards(
        [str(tmp_path / "shard-{000000..000002}.tar")], num_classes=len(tags), tag_names=tags, transform=PLAIN
    )
    from_json = _dataset(synthetic)
    assert len(from_shards) == len(from_json) == 8
    for i in range(8):
        a, b = from_shards[i], from_json[i]
        assert torch.equal(a["image"], b["image"]) and torch.equal(a["target"], b["target"])
        assert a["caption"] == b["caption"]


def test_collate_stacks_tensors_and_lists_strings(synthetic):
    batch = collate_samples([_dataset(synthetic)[i] for i in range(3)])
    assert batch["image"].shape == (3, 3, 32, 32)
    assert batch["index"].tolist() == [0, 1, 2]
    assert isinstance(batch["caption"], list) and len(batch["caption"]) == 3


@pytest.mark.parametrize("rank", [0, 1, 2])
def test_sampler_matches_distributed_sampler_order(rank):
    ours = ResumableDistributedSampler(10, num_replicas=3, rank=rank, seed=7)
    theirs = DistributedSampler(range(10), num_replicas=3, rank=rank, seed=7)
    ours.set_epoch(2)
    theirs.set_epoch(2)
    assert list(ours) == list(theirs)


def test_sampler_resumes_mid_epoch():
    sampler = ResumableDistributedSampler(10, seed=0)
    sampler.set_epoch(1)
    full = list(sampler)
    sampler.set_epoch(1, start=4)
    assert list(sampler) == full[4:] and len(sampler) == 6


def test_transform_normalises_with_clip_statistics():
    image = Image.new("RGB", (40, 40), (255, 0, 128))
    out = PLAIN(image, torch.Generator().manual_seed(0))
    expected = [(v / 255 - m) / s for v, m, s in zip((255, 0, 128), CLIP_MEAN, CLIP_STD)]
    torch.testing.assert_close(out[:, 5, 5], torch.tensor(expected), atol=1e-6, rtol=0)


def test_random_resized_crop_varies_between_draws():
    transform = TrainTransform(size=16, hflip=False, randaugment=False)
    image = Image.new("RGB", (100, 100), (0, 0, 0))
    image.paste((255, 255, 255), (0, 0, 50, 100))  # left half white
    g = torch.Generator().manual_seed(3)
    means = [transform(image, g).mean().item() for _ in range(20)]
    assert len({round(m, 4) for m in means}) > 1  # crops differ from draw to draw


@pytest.mark.parametrize("name", sorted(RAND_AUGMENT_OPS))
def test_each_rand_augment_op_keeps_size_and_mode(name):
    image = Image.new("RGB", (24, 20), (10, 200, 90))
    out = RAND_AUGMENT_OPS[name](image, torch.Generator().manual_seed(0), 5.0)
    assert out.size == (24, 20) and out.mode == "RGB"


def test_crop_box_covers_between_half_and_all_of_the_area():
    g = torch.Generator().manual_seed(0)
    for _ in range(50):
        top, left, h, w = random_resized_crop_box(200, 100, g, (0.5, 1.0), (3 / 4, 4 / 3))
        assert top >= 0 and top + h <= 100 and left >= 0 and left + w <= 200
        assert 0.45 * 200 * 100 <= h * w <= 200 * 100
