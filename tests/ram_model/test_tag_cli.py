"""``python -m ram_model.tag`` on tiny random checkpoints saved in tmp_path."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import ram_model
from ram_model.checkpoint import save_checkpoint
from ram_model.clip import load_clip
from ram_model.convert import to_official_state_dict
from ram_model.tag import main, parse_args, run


@pytest.fixture
def ram_ckpt(tmp_path, tiny_ram) -> Path:
    return save_checkpoint(tiny_ram, tmp_path / "ram_tiny.pth")


@pytest.fixture
def photo_dir(tmp_path, demo_images) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    for path in demo_images[:3]:
        shutil.copy(path, folder / path.name)
    return folder


def _lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_one_json_line_per_image_with_aligned_tags_and_scores(ram_ckpt, photo_dir, capsys):
    assert main(["--checkpoint", str(ram_ckpt), "--threshold", "0.5", "--workers", "0", str(photo_dir)]) == 0
    records = _lines(capsys.readouterr().out)
    assert [Path(r["path"]).name for r in records] == sorted(p.name for p in photo_dir.iterdir())
    for record in records:
        assert set(record) == {"path", "tags", "tags_chinese", "scores"}
        assert len(record["tags"]) == len(record["tags_chinese"]) == len(record["scores"])
        assert all(score > 0.5 for score in record["scores"])
    assert any(record["tags"] for record in records)


def test_tag2text_lines_carry_a_caption(tmp_path, tiny_tag2text, demo_images, capsys):
    ckpt = save_checkpoint(tiny_tag2text, tmp_path / "t2t.pth")
    code = main(["--checkpoint", str(ckpt), "--workers", "0", "--max-length", "12", str(demo_images[0])])
    record = _lines(capsys.readouterr().out)[0]
    assert code == 0 and isinstance(record["caption"], str) and record["caption"]


def test_bad_files_in_a_batch_are_reported_and_the_rest_tagged(ram_ckpt, photo_dir, capsys):
    (photo_dir / "empty.jpg").write_bytes(b"")
    (photo_dir / "junk.png").write_bytes(b"\x89PNG garbage")
    (photo_dir / "zcut.jpg").write_bytes((photo_dir / "demo2.jpg").read_bytes()[:3000])
    Image.new("L", (4000, 4000)).save(photo_dir / "huge.png")  # demo photos are at most 13.8 MP
    code = main(["--checkpoint", str(ram_ckpt), "--workers", "0", "--batch-size", "3", "--max-pixels", "15000000",
                 str(photo_dir)])
    records = {Path(r["path"]).name: r for r in _lines(capsys.readouterr().out)}
    assert code == 0 and len(records) == 7
    assert records["empty.jpg"]["error"] == "empty file"
    assert "cannot read image" in records["junk.png"]["error"]
    assert "truncated" in records["zcut.jpg"]["error"]
    assert "too large" in records["huge.png"]["error"]
    assert all("tags" in records[name] for name in ("demo2.jpg", "demo3.jpg", "demo4.jpg"))


def test_unusual_image_modes_are_tagged(ram_ckpt, tmp_path, capsys):
    folder = tmp_path / "modes"
    folder.mkdir()
    base = Image.new("RGB", (40, 30), (10, 200, 30))
    base.convert("CMYK").save(folder / "cmyk.jpg")
    base.convert("RGBA").save(folder / "rgba.png")
    base.convert("P").save(folder / "palette.png")
    Image.fromarray(np.full((30, 40), 40000, dtype=np.uint16)).save(folder / "deep.png")
    assert main(["--checkpoint", str(ram_ckpt), "--workers", "0", str(folder)]) == 0
    records = _lines(capsys.readouterr().out)
    assert len(records) == 4 and all("tags" in r for r in records)


def test_single_bad_image_is_a_clear_error(ram_ckpt, tmp_path, capsys):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"nope")
    assert main(["--checkpoint", str(ram_ckpt), str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: ") and "bad.jpg" in captured.err and "cannot read image" in captured.err


def test_wrong_variant_and_class_count_are_named(ram_ckpt, tmp_path, demo_images, capsys):
    assert main(["--checkpoint", str(ram_ckpt), "--model", "tag2text", str(demo_images[0])]) == 2
    assert "holds a ram (4585 classes) model but --model tag2text" in capsys.readouterr().err
    taglist = tmp_path / "tags.txt"
    taglist.write_text("cat\ndog\n")
    assert main(["--checkpoint", str(ram_ckpt), "--taglist", str(taglist), str(demo_images[0])]) == 2
    assert "2 names but the ram_tiny head has 4585 classes" in capsys.readouterr().err


def test_checkpoint_without_config_uses_the_model_option(tmp_path, tiny_ram, demo_images, capsys):
    path = tmp_path / "official_style.pth"
    torch.save({"model": to_official_state_dict(tiny_ram)}, path)
    assert main(["--checkpoint", str(path), "--model", "ram_tiny", "--workers", "0", str(demo_images[0])]) == 0
    assert "tags" in _lines(capsys.readouterr().out)[0]


def test_open_set_tags_with_a_local_clip_checkpoint(ram_ckpt, tmp_path, demo_images, capsys):
    torch.manual_seed(0)
    clip_path = tmp_path / "clip.pt"
    torch.save(load_clip(tiny=True).state_dict(), clip_path)
    cache = tmp_path / "cache"
    argv = ["--checkpoint", str(ram_ckpt), "--tags", "red apple, striped zebra,teapot", "--clip-checkpoint",
            str(clip_path), "--clip-model", "tiny", "--label-cache", str(cache), "--threshold", "0",
            "--workers", "0", str(demo_images[0])]
    assert main(argv) == 0
    record = _lines(capsys.readouterr().out)[0]
    assert record["tags"] == ["red apple", "striped zebra", "teapot"]
    assert record["tags_chinese"] == [None, None, None]
    assert len(list(cache.glob("*.pt"))) == 1


def test_ram_plus_open_set_from_tags(tmp_path, tiny_ram_plus, demo_images, capsys):
    ckpt = save_checkpoint(tiny_ram_plus, tmp_path / "rp.pth")
    clip_path = tmp_path / "clip.pt"
    torch.save(load_clip(tiny=True).state_dict(), clip_path)
    argv = ["--checkpoint", str(ckpt), "--tags", "owl,kayak", "--clip-checkpoint", str(clip_path), "--clip-model",
            "tiny", "--threshold", "0", "--workers", "0", str(demo_images[0])]
    assert main(argv) == 0
    assert _lines(capsys.readouterr().out)[0]["tags"] == ["owl", "kayak"]


def test_open_set_without_clip_checkpoint_is_refused(ram_ckpt, demo_images, capsys):
    assert main(["--checkpoint", str(ram_ckpt), "--tags", "owl", str(demo_images[0])]) == 2
    assert "--clip-checkpoint" in capsys.readouterr().err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal(ram_ckpt, photo_dir):
    args = parse_args(["--checkpoint", str(ram_ckpt), "--workers", "0", str(photo_dir)])
    quiet, terminal = io.StringIO(), _Terminal()
    run(args, io.StringIO(), quiet)
    run(args, io.StringIO(), terminal)
    assert quiet.getvalue() == ""
    assert "3/3" in terminal.getvalue()


@pytest.mark.slow
def test_cli_module_runs_with_dataloader_workers(ram_ckpt, photo_dir):
    cmd = [sys.executable, "-m", "ram_model.tag", "--checkpoint", str(ram_ckpt), "--workers", "2",
           "--batch-size", "2", str(photo_dir)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=Path(ram_model.__file__).parents[1])
    assert done.returncode == 0, done.stderr
    assert len(_lines(done.stdout)) == 3 and done.stderr == ""


def test_bf16_precision_tags_images(ram_ckpt, demo_images, capsys):
    argv = ["--checkpoint", str(ram_ckpt), "--precision", "bf16", "--threshold", "0.5", "--workers", "0",
            str(demo_images[0])]
    assert main(argv) == 0
    record = _lines(capsys.readouterr().out)[0]
    assert len(record["tags"]) == len(record["scores"])


def test_ram_plus_open_set_from_a_descriptions_file(tmp_path, tiny_ram_plus, demo_images, capsys):
    ckpt = save_checkpoint(tiny_ram_plus, tmp_path / "rp.pth")
    clip_path = tmp_path / "clip.pt"
    torch.save(load_clip(tiny=True).state_dict(), clip_path)
    descriptions = tmp_path / "des.json"
    descriptions.write_text(json.dumps([{"Ale": ["a glass of beer.", "amber drink."]},
                                        {"Zeppelin": ["an airship.", "a big balloon."]}]))
    common = ["--checkpoint", str(ckpt), "--descriptions", str(descriptions), "--clip-checkpoint", str(clip_path),
              "--clip-model", "tiny", "--threshold", "0", "--workers", "0", str(demo_images[0])]
    assert main(common) == 0
    assert _lines(capsys.readouterr().out)[0]["tags"] == ["Ale", "Zeppelin"]
    assert main([*common, "--tags", "Zeppelin,Owl"]) == 2
    assert "no descriptions for: Owl" in capsys.readouterr().err
