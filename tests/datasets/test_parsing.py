"""The parse job: a child version with parsed assignments linked to captions, phrase counts, proposals."""

from __future__ import annotations

import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from apps.datasets import selectors
from apps.datasets.models import DatasetVersion, PhraseCount, TagAssignment
from apps.datasets.services.context import run_inline
from apps.datasets.services.parsing import ParseOptions, dataset_version_parse_run
from apps.datasets.services.proposals import label_system_propose
from apps.jobs.models import Job
from tests.helpers import CrashAfter


class FakeParser:
    """Splits captions on spaces: every word is a tag candidate (keeps these tests free of spaCy)."""

    def parse_many(self, captions, *, batch_size=256):
        for caption in captions:
            yield {"caption": caption, "tags": caption.split()}


@pytest.fixture
def imported(db, image_root, write_file, lsv) -> DatasetVersion:
    path = write_file("a.jsonl", [{"image": "a.jpg", "captions": ["dog grass", "puppies zebra"]},
                                  {"image": "b.jpg", "caption": "cat zebra unicorn"}])
    out = io.StringIO()
    call_command("import_dataset", str(path), "--name", "d", "--format", "jsonl", "--label-system-version",
                 str(lsv.pk), stdout=out)
    return DatasetVersion.objects.get(pk=json.loads(out.getvalue())["version_id"])


def _parse(version, **options):
    opts = ParseOptions(version_id=version.pk, **options)
    return run_inline(kind="parse_version", params=opts.as_params(),
                      body=lambda ctx: dataset_version_parse_run(ctx, parser=FakeParser()))[1]


def test_parse_produces_a_sealed_child_with_parsed_assignments(imported):
    result = _parse(imported)
    child = DatasetVersion.objects.get(pk=result["version_id"])
    assert (child.parent_id, child.seq, child.sealed) == (imported.pk, 2, True)
    rows = sorted(selectors.version_assignments(version=child).values_list("image__uri", "tag_group__index",
                                                                           "caption__text", "source"))
    assert rows == [("a.jpg", 0, "dog grass", "parsed"), ("a.jpg", 0, "puppies zebra", "parsed"),
                    ("a.jpg", 2, "dog grass", "parsed"), ("b.jpg", 1, "cat zebra unicorn", "parsed")]
    assert selectors.version_assignments(version=imported).count() == 0


def test_parse_records_unmapped_phrase_counts(imported):
    child = DatasetVersion.objects.get(pk=_parse(imported)["version_id"])
    unmapped = {p.phrase: p.count for p in selectors.version_phrase_frequency(version=child, unmapped_only=True)}
    assert unmapped == {"zebra": 2, "unicorn": 1}
    assert PhraseCount.objects.get(version=child, phrase="puppies").tag_group.index == 0


def test_parse_resumes_after_a_crash(imported):
    job = Job.objects.create(kind="parse_version", queue="cpu",
                             params=ParseOptions(version_id=imported.pk, shard_size=1).as_params())
    with pytest.raises(RuntimeError):
        dataset_version_parse_run(CrashAfter(job, n=3), parser=FakeParser())
    job.refresh_from_db()
    assert job.cursor["captions"] == 1
    _, result = run_inline(kind="parse_version", params={}, job=job,
                           body=lambda ctx: dataset_version_parse_run(ctx, parser=FakeParser()))
    assert result["captions"] == 3 and TagAssignment.objects.count() == 4
    assert PhraseCount.objects.get(phrase="zebra").count == 2


def test_parse_needs_a_label_system(db, image_root, write_file):
    out = io.StringIO()
    call_command("import_dataset", str(write_file("a.jsonl", [{"image": "a.jpg", "caption": "dog"}])), "--name",
                 "d", "--format", "jsonl", stdout=out)
    version = DatasetVersion.objects.get(pk=json.loads(out.getvalue())["version_id"])
    with pytest.raises(ValidationError, match="no label-system version"):
        _parse(version)


def test_ram_json_export_of_parsed_version_fills_parse_label_id(imported, tmp_path):
    child = DatasetVersion.objects.get(pk=_parse(imported)["version_id"])
    call_command("export_snapshot", str(child.pk), "--format", "ram-json", "--out", str(tmp_path / "s"),
                 stdout=io.StringIO())
    records = json.loads((tmp_path / "s" / "annotations_ram.json").read_text())
    assert records[0] == {"image_path": "a.jpg", "caption": ["dog grass", "puppies zebra"],
                          "union_label_id": [0, 2], "parse_label_id": [[0, 2], [0]]}


def test_propose_label_system_from_top_phrases(imported):
    child = DatasetVersion.objects.get(pk=_parse(imported)["version_id"])
    draft = label_system_propose(version=child, top_k=2, name="proposed")
    assert draft.label_system.name == "proposed" and draft.status == "draft"
    assert list(draft.tags.order_by("group__index").values_list("text", flat=True)) == ["zebra", "cat"]


def test_propose_without_phrase_counts_is_refused(imported):
    with pytest.raises(ValidationError, match="no phrase counts"):
        label_system_propose(version=imported, top_k=10)


@pytest.mark.slow
def test_parse_version_command_uses_the_real_parser(db, image_root, write_file, lsv):
    path = write_file("a.jsonl", [{"image": "a.jpg", "caption": "two puppies playing on grass"}])
    out = io.StringIO()
    call_command("import_dataset", str(path), "--name", "d", "--format", "jsonl", "--label-system-version",
                 str(lsv.pk), stdout=out)
    out2 = io.StringIO()
    call_command("parse_version", str(json.loads(out.getvalue())["version_id"]), stdout=out2)
    child = DatasetVersion.objects.get(pk=json.loads(out2.getvalue())["version_id"])
    tags = sorted(selectors.version_assignments(version=child).values_list("tag_group__index", flat=True))
    assert tags == [0, 2, 3]  # puppy → dog's group, grass, play


@pytest.mark.slow
def test_parse_on_two_processes_keeps_captions_and_results_aligned(imported):
    _, result = run_inline(kind="parse_version", body=dataset_version_parse_run,
                           params=ParseOptions(version_id=imported.pk, shard_size=2, workers=2).as_params())
    child = DatasetVersion.objects.get(pk=result["version_id"])
    rows = set(selectors.version_assignments(version=child).values_list("caption__text", "tag_group__index"))
    assert {("dog grass", 0), ("dog grass", 2), ("cat zebra unicorn", 1)} <= rows
    assert all(text != "cat zebra unicorn" or index == 1 for text, index in rows)


def test_parsing_a_parsed_version_again_adds_no_duplicate(imported):
    first = DatasetVersion.objects.get(pk=_parse(imported)["version_id"])
    second = DatasetVersion.objects.get(pk=_parse(first)["version_id"])
    assert second.counts["assignments_added"] == 0
    assert second.counts["assignments"] == first.counts["assignments"] == 4


def test_a_conflicting_row_written_meanwhile_is_skipped_not_an_error(imported):
    """The direct COPY path falls back to ON CONFLICT when another writer added the same live row."""
    from apps.datasets.models import AssignmentSource, Caption
    from apps.datasets.services.versions import AssignmentRow, assignments_add
    from apps.labels.models import TagGroup

    job = Job.objects.create(kind="parse_version", queue="cpu",
                             params=ParseOptions(version_id=imported.pk, shard_size=1).as_params())
    with pytest.raises(RuntimeError):
        dataset_version_parse_run(CrashAfter(job, n=2), parser=FakeParser())  # initial cursor, then shard 1
    job.refresh_from_db()
    child = DatasetVersion.objects.get(pk=job.cursor["child_id"])
    caption = Caption.objects.get(text="puppies zebra")
    dog = TagGroup.objects.get(version=imported.label_system_version, index=0)
    assignments_add(version=child, rows=[AssignmentRow(caption.image_id, dog.pk, AssignmentSource.PARSED,
                                                       caption_id=caption.pk)])
    run_inline(kind="parse_version", params={}, job=job,
               body=lambda ctx: dataset_version_parse_run(ctx, parser=FakeParser()))
    assert TagAssignment.objects.count() == 4
    assert TagAssignment.objects.filter(caption=caption).count() == 1


def test_the_mapper_travels_to_parser_processes_and_maps_the_same(lsv):
    import pickle

    from apps.datasets.services.parsing import tag_mapper_for
    from ram_model.text.parallel import map_result, parse_map_stream

    mapper = tag_mapper_for(lsv.pk)
    captions = ["dog grass", "puppies zebra zebra", "", "cat unicorn"]
    mapped = list(parse_map_stream(captions, pickle.loads(pickle.dumps(mapper)), parser=FakeParser()))
    assert mapped == [map_result(mapper, {"tags": c.split()}) for c in captions]
    ids, matched, unmapped = mapped[1]
    assert len(ids) == 1 and [text for text, _ in matched] == ["puppies"] and unmapped == ("zebra", "zebra")
