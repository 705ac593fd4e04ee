"""`python -m ram_model.train --config FILE [--resume DIR]` (run in-process)."""

import json

import yaml

from ram_model.synthetic import write_dataset
from ram_model.train.__main__ import main


def test_cli_trains_then_resumes_to_a_larger_step_budget(tmp_path, capsys):
    data = write_dataset(tmp_path / "data", 8, seed=0)
    config = {
        "model": "ram_tiny", "class_num": 9, "image_size": 64, "train_file": [str(data["train_json"])],
        "tag_list": str(data["tag_list"]), "batch_size": 4, "max_steps": 1, "num_workers": 0,
        "distill": False, "log_every": 1,
    }
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(config))
    run_dir = tmp_path / "run"
    assert main(["--config", str(tmp_path / "cfg.yaml"), "--output-dir", str(run_dir)]) == 0
    first = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert first["result"]["status"] == "completed" and first["result"]["step"] == 1
    assert main(["--resume", str(run_dir), "--set", "max_steps=2"]) == 0
    second = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert second["result"]["resumed"] and second["result"]["step"] == 2


def test_cli_reports_a_bad_config_without_a_traceback(tmp_path, capsys):
    (tmp_path / "cfg.yaml").write_text("train_file: [x.json]\nbatch_sise: 3\n")
    assert main(["--config", str(tmp_path / "cfg.yaml"), "--output-dir", str(tmp_path / "run")]) == 2
    assert "batch_sise" in capsys.readouterr().err
