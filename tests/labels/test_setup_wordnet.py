"""scripts/setup_wordnet.py copies Debian's WordNet for nltk and writes the lexnames file."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def setup_module_():
    spec = importlib.util.spec_from_file_location("setup_wordnet", ROOT / "scripts" / "setup_wordnet.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not (module.DEBIAN_DIR / "data.noun").is_file() or not module.LEXNAMES_MAN.is_file():
        pytest.skip("Debian's wordnet-base / wordnet-sense-index are not installed")
    return module


def test_lexnames_has_45_rows_with_pos_numbers(setup_module_):
    lines = setup_module_.lexnames_from_man_page().splitlines()

    assert len(lines) == 45
    assert lines[0] == "00\tadj.all\t3"
    assert "18\tnoun.person\t1" in lines
    assert lines[-1] == "44\tadj.ppl\t3"


def test_setup_copies_files_then_does_nothing_the_second_time(setup_module_, tmp_path):
    first = setup_module_.setup_wordnet(tmp_path)
    second = setup_module_.setup_wordnet(tmp_path)

    assert (tmp_path / "corpora" / "wordnet" / "index.sense").is_file()
    assert any("lexnames" in action for action in first)
    assert second == []


def test_installed_copy_loads_in_nltk(setup_module_, tmp_path):
    from ram_model.text.wordnet import load_wordnet

    setup_module_.setup_wordnet(tmp_path)

    assert load_wordnet(tmp_path).reader.synset("dog.n.01").lexname() == "noun.animal"


def test_missing_debian_files_say_what_to_install(setup_module_, tmp_path):
    with pytest.raises(FileNotFoundError, match="apt-get install wordnet-base wordnet-sense-index"):
        setup_module_.setup_wordnet(tmp_path / "out", source_dir=tmp_path / "nowhere")


def test_main_prints_one_line_and_fails_when_files_are_missing(setup_module_, tmp_path, capsys):
    status = setup_module_.main(["--data-dir", str(tmp_path / "out"), "--source-dir", str(tmp_path / "nowhere")])

    assert status == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "apt-get install wordnet-base wordnet-sense-index" in error
