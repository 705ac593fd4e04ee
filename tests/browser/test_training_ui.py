"""A trainer, in a real browser: launch a tiny training run on the synthetic demo data, watch it reach 100 %,
see its mAP curve, evaluate its checkpoint twice and compare the evaluations tag by tag."""

from __future__ import annotations

import re

import pytest

from apps.training.models import EvalResult, TrainingRun

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.slow]

RUN_TIMEOUT_MS = 180_000


def _select(page, name: str, label_part: str) -> None:
    """Choose the option of select ``name`` whose text contains ``label_part``."""
    options = page.locator(f"select[name={name}] option").all_inner_texts()
    label = next(text for text in options if label_part in text)
    page.select_option(f"select[name={name}]", label=label)


def test_trainer_launches_watches_evaluates_and_compares_in_the_browser(logged_in, live_server, demo, start_worker):
    start_worker("browser")
    page = logged_in("trainer")

    page.click("text=launch a tiny training run")
    _select(page, "dataset_version", "demo-shapes-train")
    _select(page, "label_system_version", "demo-shapes")
    _select(page, "eval_dataset_version", "demo-shapes-heldout")
    page.select_option("select[name=mode]", "pretrain")  # the defaults shown follow the choice
    page.wait_for_selector("#config-defaults:has-text('Defaults of a pretrain run')")
    page.select_option("select[name=mode]", "finetune")
    page.select_option("select[name=size]", "tiny")
    page.wait_for_selector("#config-defaults:has-text('Defaults of a finetune run, size tiny')")
    page.fill("textarea[name=config]", '{"max_steps": 4, "batch_size": 4, "eval_every": 2}')
    page.click("#launch-training button[type=submit]")

    page.wait_for_url(re.compile(r"/training/runs/\d+/$"))
    page.wait_for_selector("#run-live .percent:text('100 %')", timeout=RUN_TIMEOUT_MS)
    page.wait_for_selector("#run-live [data-state=succeeded]", timeout=30_000)
    map_curve = page.locator("svg[data-chart=map] polyline[data-series=mAP]")
    assert map_curve.count() == 1
    assert len(map_curve.get_attribute("points").split()) == 2  # evaluated at steps 2 and 4
    assert page.locator("svg[data-chart=loss] polyline").count() >= 1
    assert TrainingRun.objects.get().job.progress_done == 4

    page.click("#run-checkpoints a")
    page.wait_for_url(re.compile(r"/training/checkpoints/\d+/$"))
    for version in ("demo-shapes-heldout", "demo-shapes-train"):
        expected = EvalResult.objects.count() + 1
        _select(page, "dataset_version", version)
        page.click("#evaluate-form button[type=submit]")
        page.wait_for_function(f"document.querySelectorAll('#checkpoint-jobs tr[data-eval]').length == {expected}",
                               timeout=90_000)
    assert re.fullmatch(r"0\.\d{4}|1\.0000", page.locator("#checkpoint-jobs tr[data-eval] .map").first.inner_text())

    page.reload()
    page.click("#compare-form button[type=submit]")
    page.wait_for_url(re.compile(r"/training/compare/\?a=\d+&b=\d+"))
    assert page.locator("#compare-table tr[data-tag]").count() >= 5
    page.click("#compare-table th a[data-sort=tag]")
    page.wait_for_selector("#compare-table th:has(a[data-sort=tag]):has-text('▲')")
    tags = page.locator("#compare-table tr[data-tag]").evaluate_all("rows => rows.map(r => r.dataset.tag)")
    assert tags == sorted(tags)
    page.fill("input[name=q]", "gre")
    page.wait_for_function("[...document.querySelectorAll('#compare-table tr[data-tag]')]"
                           ".every(r => r.dataset.tag.includes('gre'))")
    tags = page.locator("#compare-table tr[data-tag]").evaluate_all("rows => rows.map(r => r.dataset.tag)")
    assert tags == ["green"]
