"""`python -m ram_model.parse`: one caption per input line -> one JSON scene graph per output line.

    python -m ram_model.parse [-i FILE|-] [-o FILE|-] [--workers N] [--batch-size N] [--model NAME]

Each output line is {"caption", "objects", "attributes", "relations", "tags"} (see ram_model.text.parser);
an empty input line gives an empty result, so output line k always belongs to input line k.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from typing import TextIO

from ram_model.text.parser import DEFAULT_MODEL


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def build_arg_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m ram_model.parse", description=__doc__.splitlines()[0])
    ap.add_argument("-i", "--input", default="-", help="caption file, one per line ('-' = stdin)")
    ap.add_argument("-o", "--output", default="-", help="JSON-lines output ('-' = stdout)")
    ap.add_argument("--workers", type=_positive, default=1, help="parser processes (default 1)")
    ap.add_argument("--batch-size", type=_positive, default=256, help="captions per nlp.pipe batch")
    ap.add_argument("--model", default=DEFAULT_MODEL, help="installed spaCy English pipeline name")
    return ap


def _lines(stream: TextIO) -> Iterator[str]:
    for line in stream:
        yield line.rstrip("\r\n")


def main(argv: list[str] | None = None) -> int:
    args = build_arg_parser().parse_args(argv)
    from ram_model.text.parallel import parse_stream

    with ExitStack() as stack:
        try:
            src = sys.stdin if args.input == "-" else stack.enter_context(
                open(args.input, encoding="utf-8", errors="replace")
            )
            dst = sys.stdout if args.output == "-" else stack.enter_context(
                open(args.output, "w", encoding="utf-8")
            )
        except OSError as exc:
            print(f"ram_model.parse: cannot open {exc.filename}: {exc.strerror}", file=sys.stderr)
            return 2
        try:
            results = parse_stream(_lines(src), workers=args.workers, batch_size=args.batch_size, model=args.model)
            for result in results:
                dst.write(json.dumps(result, ensure_ascii=False) + "\n")
        except OSError as exc:  # spaCy raises OSError for a model that is not installed
            print(f"ram_model.parse: {exc}", file=sys.stderr)
            return 1
        dst.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
