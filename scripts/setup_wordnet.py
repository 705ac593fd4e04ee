"""Install WordNet 3.0 for nltk from Debian's packages, without any download (see STACK.md).

nltk only opens corpora under an allowed data root and resolves symlinks, so the files of ``wordnet-base`` and
``wordnet-sense-index`` (``/usr/share/wordnet``) are *copied* into ``<data dir>/corpora/wordnet/``. Debian lacks
the ``lexnames`` file nltk needs; it is written from the table in the lexnames(5WN) man page.

Usage: ``python scripts/setup_wordnet.py [--data-dir DIR]`` (default: ``$NLTK_DATA`` or ``var/nltk_data``).
Idempotent: files already identical are left alone. Exit status 1 with one line on stderr when the Debian
files are missing.
"""

from __future__ import annotations

import argparse
import filecmp
import gzip
import os
import re
import shutil
import sys
from pathlib import Path

DEBIAN_DIR = Path("/usr/share/wordnet")
LEXNAMES_MAN = Path("/usr/share/man/man5/lexnames.5WN.gz")
INSTALL_HINT = "apt-get install wordnet-base wordnet-sense-index"
# The files nltk's WordNetCorpusReader opens (index.sense comes from wordnet-sense-index).
REQUIRED = [
    *(f"{kind}.{pos}" for kind in ("data", "index") for pos in ("noun", "verb", "adj", "adv")),
    *(f"{pos}.exc" for pos in ("noun", "verb", "adj", "adv")),
    "index.sense",
]
OPTIONAL = ["cntlist", "cntlist.rev", "frames.vrb", "sentidx.vrb", "sents.vrb"]
POS_NUMBER = {"noun": "1", "verb": "2", "adj": "3", "adv": "4"}
LEXNAME_ROW = re.compile(r"^(\d\d)\t([a-z]+\.[A-Za-z]+)\s*\t")


def default_data_dir() -> Path:
    env = os.environ.get("NLTK_DATA", "").split(os.pathsep)[0]
    return Path(env) if env else Path(__file__).resolve().parent.parent / "var" / "nltk_data"


def lexnames_from_man_page(man_page: Path = LEXNAMES_MAN) -> str:
    """The ``lexnames`` file: ``NN<TAB>name<TAB>pos`` for the 45 lexicographer files of the man page table."""
    with gzip.open(man_page, "rt", encoding="utf-8") as handle:
        rows = [LEXNAME_ROW.match(line) for line in handle]
    lines = [f"{m[1]}\t{m[2]}\t{POS_NUMBER[m[2].split('.')[0]]}" for m in rows if m]
    if len(lines) != 45:
        raise ValueError(f"{man_page}: expected 45 lexicographer files, found {len(lines)}")
    return "\n".join(lines) + "\n"


def _copy_if_changed(source: Path, target: Path) -> bool:
    if target.exists() and filecmp.cmp(source, target, shallow=False):
        return False
    shutil.copyfile(source, target)  # a copy, not a link: nltk resolves links outside its allowed roots
    return True


def setup_wordnet(data_dir: Path, source_dir: Path = DEBIAN_DIR, man_page: Path = LEXNAMES_MAN) -> list[str]:
    """Copy the WordNet files into ``data_dir/corpora/wordnet``; returns one message per action taken."""
    missing = [name for name in REQUIRED if not (source_dir / name).is_file()]
    if missing or not man_page.is_file():
        absent = ", ".join(missing) if missing else str(man_page)
        raise FileNotFoundError(f"WordNet files missing ({absent}); install them with: {INSTALL_HINT}")
    target_dir = data_dir / "corpora" / "wordnet"
    target_dir.mkdir(parents=True, exist_ok=True)
    actions = []
    for name in REQUIRED + [n for n in OPTIONAL if (source_dir / n).is_file()]:
        if _copy_if_changed(source_dir / name, target_dir / name):
            actions.append(f"copied {source_dir / name} -> {target_dir / name}")
    lexnames = target_dir / "lexnames"
    text = lexnames_from_man_page(man_page)
    if not lexnames.exists() or lexnames.read_text(encoding="utf-8") != text:
        lexnames.write_text(text, encoding="utf-8")
        actions.append(f"wrote {lexnames} from {man_page}")
    return actions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="nltk data directory (default: $NLTK_DATA or var/nltk_data)")
    parser.add_argument("--source-dir", type=Path, default=DEBIAN_DIR,
                        help=f"where the Debian packages put WordNet (default: {DEBIAN_DIR})")
    args = parser.parse_args(argv)
    data_dir = (args.data_dir or default_data_dir()).resolve()
    try:
        actions = setup_wordnet(data_dir, source_dir=args.source_dir)
    except (FileNotFoundError, ValueError) as exc:
        print(f"setup_wordnet: {exc}", file=sys.stderr)
        return 1
    for action in actions:
        print(action)
    print(f"WordNet 3.0 ready in {data_dir / 'corpora' / 'wordnet'} "
          f"({'up to date' if not actions else f'{len(actions)} file(s) written'}); "
          f"point NLTK_DATA at {data_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
