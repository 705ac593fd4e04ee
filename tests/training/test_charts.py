"""Inline SVG charts of the run page."""

from __future__ import annotations

from apps.training.charts import MAX_POINTS, Series, line_chart, thin


def test_chart_draws_one_polyline_per_series_and_escapes_names():
    svg = line_chart([Series("loss<b>", [(1, 2.0), (2, 1.0)]), Series("empty", [])], title="Loss", key="loss")

    assert svg.count("<polyline") == 1
    assert "loss&lt;b&gt;" in svg and "<b>" not in svg


def test_chart_without_points_says_so():
    assert "no data yet" in line_chart([Series("mAP", [])], title="mAP", key="map")


def test_long_series_are_thinned_but_keep_spikes_and_the_last_point():
    points = [(float(i), 1.0) for i in range(100_000)]
    points[54_321] = (54_321.0, 50.0)

    thinned = thin(points)

    assert len(thinned) <= MAX_POINTS + 1
    assert (54_321.0, 50.0) in thinned and thinned[-1] == points[-1]
    assert [x for x, _ in thinned] == sorted(x for x, _ in thinned)
