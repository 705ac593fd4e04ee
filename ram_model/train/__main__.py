"""`python -m ram_model.train --config FILE [--resume DIR] [--output-dir DIR] [--set key=value ...]`.

Prints one JSON line per logged step (the same records as metrics.jsonl) and a final summary line. With
`--resume DIR` the run in DIR continues from its newest checkpoint (its saved config.json is used when no
--config is given).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from ram_model.train.config import read_config_file


def _parse_set(items: list[str]) -> dict[str, Any]:
    """`key=value` pairs; values are parsed as YAML scalars/lists (`max_steps=10`, `train_file=[a.json]`)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"--set expects key=value, got {item!r}")
        out[key] = yaml.safe_load(value)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ram_model.train", description=__doc__.split("\n")[0])
    parser.add_argument("--config", help="training config (YAML or JSON)")
    parser.add_argument("--resume", metavar="DIR", help="run directory to continue")
    parser.add_argument("--output-dir", help="run directory of a new run (default runs/<time>)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key")
    args = parser.parse_args(argv)
    if args.resume:
        run_dir = Path(args.resume)
        if args.config:
            config = read_config_file(args.config)
        elif (run_dir / "config.json").is_file():
            config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
        else:
            parser.error(f"{run_dir} has no config.json; pass --config")
    elif args.config:
        config = read_config_file(args.config)
        run_dir = Path(args.output_dir or f"runs/{time.strftime('%Y%m%d-%H%M%S')}")
    else:
        parser.error("pass --config FILE (new run) or --resume DIR")
    config.update(_parse_set(args.set))

    def progress(record: dict[str, Any]) -> None:
        print(json.dumps({k: v for k, v in record.items() if k != "eval" or v is not None}), flush=True)

    from ram_model.train.trainer import run_training

    try:
        result = run_training(config, run_dir, resume=bool(args.resume), progress=progress)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"result": result, "run_dir": str(run_dir)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
