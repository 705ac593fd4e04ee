"""Importing the upstream RAM files and exporting the version gives the same bytes; bad input writes nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from apps.labels.errors import LabelFileError
from apps.labels.models import LabelSystem, LabelSystemVersion, Tag, TagGroup
from apps.labels.selectors import label_system_version_files, version_tag_texts
from apps.labels.services import LabelFiles, label_system_import, version_create_draft
from apps.labels.services.files import CHINESE_FILE, TAGS_FILE, THRESHOLDS_FILE
from apps.labels.services.loading import tag2text_label_files

pytestmark = pytest.mark.django_db


def test_ram_files_export_byte_identical(ram_version, shared_data_dir):
    exported = label_system_version_files(ram_version)

    for name in (TAGS_FILE, CHINESE_FILE, THRESHOLDS_FILE):
        assert exported[name] == (shared_data_dir / name).read_bytes(), name


def test_ram_import_has_one_group_per_line(ram_version):
    assert ram_version.groups.count() == 4585
    assert ram_version.tags.count() == 4585
    assert list(ram_version.groups.order_by("index").values_list("index", flat=True)) == list(range(4585))


def test_chinese_trailing_spaces_survive_the_database(ram_version, shared_data_dir):
    first_name = (shared_data_dir / CHINESE_FILE).read_text(encoding="utf-8").split("\n")[0]

    assert first_name.endswith(" ")
    assert Tag.objects.get(version=ram_version, group__index=0).name_zh == first_name


def test_draft_copy_exports_the_same_bytes(ram_version):
    draft = version_create_draft(version=ram_version)

    assert draft.number == 2
    assert label_system_version_files(draft) == label_system_version_files(ram_version)


def test_tag2text_imports_as_second_system_keeping_its_repeats(ram_version, ram_data_dir, shared_data_dir):
    version = label_system_import(name="tag2text", label_files=tag2text_label_files(ram_data_dir),
                                  allow_duplicate_tags=True)

    assert LabelSystem.objects.count() == 2
    assert version.groups.count() == 3429
    assert version.tags.filter(homonym=1).count() == 114
    original = (shared_data_dir / "tag2text_ori_tag_list.txt").read_bytes()
    assert label_system_version_files(version)[TAGS_FILE] == original


def test_tag2text_without_allow_duplicates_is_refused(ram_data_dir):
    with pytest.raises(LabelFileError, match="duplicate tag"):
        label_system_import(name="tag2text", label_files=tag2text_label_files(ram_data_dir))


def test_version_without_chinese_names_exports_no_chinese_file():
    version = label_system_import(name="mini", label_files=LabelFiles(tags=b"dog\ncat"))

    assert set(label_system_version_files(version)) == {TAGS_FILE, THRESHOLDS_FILE}
    assert label_system_version_files(version)[THRESHOLDS_FILE] == b"0.65\n0.65\n"


def test_merged_group_exports_as_its_primary_tag():
    from apps.labels.services import tag_groups_merge

    version = label_system_import(name="mini", label_files=LabelFiles(tags=b"dog\ncat\npuppy"))
    tag_groups_merge(groups=[TagGroup.objects.get(version=version, index=i) for i in (0, 2)])

    assert version_tag_texts(version) == ["dog", "cat"]
    assert label_system_version_files(version)[TAGS_FILE] == b"dog\ncat"


@pytest.mark.parametrize(("files", "where"), [
    (LabelFiles(tags=b"dog\ncat\ndog"), "ram_tag_list.txt, line 3: duplicate tag"),
    (LabelFiles(tags=b"dog\n\ncat"), "ram_tag_list.txt, line 2: blank line"),
    (LabelFiles(tags=b"dog\n\xc3("), "ram_tag_list.txt, line 2: invalid UTF-8"),
    (LabelFiles(tags=b"dog\ncat", chinese="狗\n".encode()), "ram_tag_list_chinese.txt, line 2: has 1 lines"),
    (LabelFiles(tags=b"dog\ncat", thresholds=b"0.5\n0.5\n0.5\n"), "ram_tag_list_threshold.txt, line 3: has 3"),
    (LabelFiles(tags=b"dog\ncat", thresholds=b"0.5\n1.5\n"), "ram_tag_list_threshold.txt, line 2: threshold"),
    (LabelFiles(tags=b"dog\ncat", thresholds=b"0.5\nx\n"), "line 2: threshold 'x' is not a number"),
])
def test_bad_input_is_refused_and_nothing_is_written(files, where):
    with pytest.raises(LabelFileError) as caught:
        label_system_import(name="bad", label_files=files)

    assert where in caught.value.messages[0]
    assert not LabelSystem.objects.exists()
    assert not Tag.objects.exists()


def test_load_command_publishes_version_one_and_is_idempotent(ram_data_dir):
    out = io.StringIO()
    call_command("load_ram_label_system", "--path", str(ram_data_dir), "--no-categories", stdout=out)
    call_command("load_ram_label_system", "--path", str(ram_data_dir), "--no-categories", stdout=out)

    version = LabelSystemVersion.objects.get(label_system__name="ram")
    assert (version.number, version.status) == (1, "published")
    assert "loaded: ram v1" in out.getvalue()
    assert "already loaded: ram v1" in out.getvalue()


def test_load_command_suggests_categories_from_wordnet(tmp_path, wordnet):
    (tmp_path / TAGS_FILE).write_bytes(b"dog\nred\nbeach")
    (tmp_path / CHINESE_FILE).write_bytes("狗\n红色\n海滩\n".encode())
    (tmp_path / THRESHOLDS_FILE).write_bytes(b"0.65\n0.8\n1\n")

    call_command("load_ram_label_system", "--path", str(tmp_path), stdout=io.StringIO())

    tags = Tag.objects.filter(version__label_system__name="ram")
    assert tags.get(text="dog").category == "object"
    assert tags.get(text="red").category == "attribute"


def test_load_command_reports_missing_files_in_one_line(tmp_path):
    with pytest.raises(CommandError, match="label file missing"):
        call_command("load_ram_label_system", "--path", str(tmp_path), "--no-categories")


def test_import_command_reports_file_line_and_reason(tmp_path):
    bad = tmp_path / "tags.txt"
    bad.write_bytes(b"dog\ndog")

    with pytest.raises(CommandError, match=r"tags.txt, line 2: duplicate tag 'dog'"):
        call_command("import_label_system", "--name", "x", "--tags", str(bad))


def test_export_command_writes_the_files(ram_version, tmp_path, shared_data_dir):
    call_command("export_label_system", str(ram_version.pk), "--out", str(tmp_path), stdout=io.StringIO())

    assert (tmp_path / TAGS_FILE).read_bytes() == (shared_data_dir / TAGS_FILE).read_bytes()
