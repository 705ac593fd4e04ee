"""``python -m ram_model COMMAND …``: dispatch to ``ram_model.COMMAND`` (tag, train, evaluate, parse)."""

from __future__ import annotations

import runpy
import sys

COMMANDS = {
    "tag": "tag images with a checkpoint (python -m ram_model.tag --help)",
    "train": "pretrain or fine-tune (python -m ram_model.train --help)",
    "evaluate": "mAP / P / R on a benchmark (python -m ram_model.evaluate --help)",
    "parse": "parse captions into tags (python -m ram_model.parse --help)",
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        lines = ["usage: python -m ram_model COMMAND [ARGS…]", "", "commands:"]
        lines += [f"  {name:9s} {text}" for name, text in COMMANDS.items()]
        print("\n".join(lines), file=sys.stderr if argv and argv[0] not in ("-h", "--help") else sys.stdout)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    sys.argv = [f"python -m ram_model.{argv[0]}", *argv[1:]]
    runpy.run_module(f"ram_model.{argv[0]}", run_name="__main__", alter_sys=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
