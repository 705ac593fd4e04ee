"""`python -m ram_model.parse`: one JSON line per input line, order kept, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ram_model.parse import main

ROOT = Path(__file__).resolve().parents[2]
CAPTIONS = ["a man riding a horse on the beach", "", "two puppies playing on grass", "a red wooden chair"]


def write_input(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "captions.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read_output(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_file_to_file_writes_one_result_per_line_in_order(tmp_path):
    out = tmp_path / "out.jsonl"
    assert main(["-i", str(write_input(tmp_path, CAPTIONS)), "-o", str(out), "--batch-size", "2"]) == 0
    results = read_output(out)
    assert [r["caption"] for r in results] == CAPTIONS
    assert results[0]["relations"][0] == ["man", "ride", "horse"]
    assert results[1] == {"caption": "", "objects": [], "attributes": [], "relations": [], "tags": []}
    assert results[2]["tags"] == ["puppy", "grass", "play"]
    assert results[3]["attributes"] == [["chair", "red"], ["chair", "wooden"]]


def test_stdin_to_stdout():
    proc = subprocess.run(
        [sys.executable, "-m", "ram_model.parse"], input="a glass of water\n\n", capture_output=True, text=True,
        cwd=ROOT, check=True,
    )
    lines = proc.stdout.splitlines()
    assert len(lines) == 2
    assert json.loads(lines[0])["relations"] == [["water", "in", "glass"]]
    assert json.loads(lines[1])["objects"] == []


@pytest.mark.slow
def test_two_workers_keep_input_order(tmp_path):
    captions = [f"{n} dogs on a red couch" if n % 3 else "" for n in range(1, 41)]
    out = tmp_path / "out.jsonl"
    code = main(["-i", str(write_input(tmp_path, captions)), "-o", str(out), "--workers", "2", "--batch-size", "3"])
    assert code == 0
    results = read_output(out)
    assert [r["caption"] for r in results] == captions
    assert all(r["objects"] == (["dog", "couch"] if r["caption"] else []) for r in results)


def test_missing_input_file_exits_2_with_one_line_on_stderr(tmp_path, capsys):
    assert main(["-i", str(tmp_path / "nope.txt")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nope.txt" in err[0]


def test_unknown_model_exits_1(tmp_path, capsys):
    assert main(["-i", str(write_input(tmp_path, ["a dog"])), "--model", "no_such_model_xyz"]) == 1
    assert "no_such_model_xyz" in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--workers", "--batch-size"])
def test_non_positive_counts_are_rejected(flag):
    with pytest.raises(SystemExit) as exc:
        main([flag, "0"])
    assert exc.value.code == 2


def _parse_in_daemon(captions: list[str]) -> tuple[bool, list[list[str]], int]:
    import multiprocessing

    from ram_model.text import parallel

    def children() -> set[int]:
        return {p.pid for p in multiprocessing.active_children()}

    daemon = multiprocessing.current_process().daemon
    inherited = children()  # a forked pool child also lists its parent's children
    results = [r["objects"] for r in parallel.parse_stream(captions, workers=2, batch_size=1)]
    deadline = time.monotonic() + 10
    while children() - inherited and time.monotonic() < deadline:
        time.sleep(0.05)  # terminated parsers are reaped asynchronously
    return daemon, results, len(children() - inherited)


def test_parse_stream_uses_its_process_pool_inside_a_daemonic_pool_child():
    """Celery's prefork children are daemonic; the parse job still gets its parser processes there."""
    import billiard

    with billiard.Pool(1) as pool:
        daemon, results, left = pool.apply(_parse_in_daemon, (["a dog", "a cat", "two red circles"],))
    assert daemon is True
    assert results == [["dog"], ["cat"], ["circle"]]
    assert left == 0  # the parser pool is gone once the stream ends


def test_parse_stream_rejects_non_positive_workers():
    from ram_model.text.parallel import parse_stream

    with pytest.raises(ValueError):
        list(parse_stream(["a dog"], workers=0))
