"""Turn one dependency-parsed caption into a scene graph: objects, attributes, relations, tags.

Works on plain per-token lists (lower-cased words, Penn tags, dependency labels, head indices), so it is
independent of spaCy objects, cheap to call, and testable with hand-made parses. Conventions (also used by
the development set, see tests/data/README.md):
  * objects are lemmatised noun phrases; noun-noun compounds stay one object ("traffic light"); colour and
    material modifiers become attributes; "group/bunch/pair of Y" and a caption-level "photo of Y" keep only Y;
  * attributes are adjectives (attributive or after a copula), colours and materials, never counts;
  * relations are (subject, predicate, object): a verb with a direct object gives its lemma ("ride");
    a preposition on a verb without one gives "verb prep" ("sit on"); on a noun, or on a verb that has a
    direct object, the bare preposition ("on", "next to", "in front of"); passives are turned active,
    possessives become "have", containers give (content, in|on, container), other "of" phrases "of".
"""

from __future__ import annotations

from collections.abc import Sequence

from ram_model.text.lemmas import Lemmatizer
from ram_model.text.lexicon import Lexicon, words

_NOUN_TAGS = frozenset({"NN", "NNS", "NNP", "NNPS"})
_ADJ_TAGS = frozenset({"JJ", "JJR", "JJS", "VBN", "VBG"})
_INFLECTED = frozenset({"VBD", "VBG", "VBN", "VBZ"})
_BE = frozenset({"be", "is", "are", "was", "were", "am", "'s", "'re", "'m", "been", "being"})
_PREP_DEPS = frozenset({"prep", "dative"})
_PREP_LIKE_DEPS = frozenset({"advmod", "npadvmod", "acomp", "prt"})  # may head a preposition or take a pobj
_GROUP_ROOT_SKIP = frozenset({"pobj", "dobj"})
_NOMINAL_DEPS = frozenset({"pobj", "dobj", "nsubj", "nsubjpass", "conj", "appos", "ROOT", "attr"})
# -ing words that are ordinary nouns, never participles in disguise.
_ING_NOUNS = words(
    "building painting clothing ceiling railing frosting icing topping wedding evening morning "
    "pudding ring string wing king thing spring swing sling sibling dumpling awning landing "
    "crossing opening stuffing filling parking housing lighting seating siding bedding living "
    "dining ping"
)
_IMPERATIVES = words("look see check meet watch enjoy try get make take let come go help love")


class SceneGraph:
    """The analysis of one parsed caption; build it, then read `objects`, `attributes`, `relations`, `tags`."""

    def __init__(
        self,
        words: Sequence[str],
        tags: Sequence[str],
        deps: Sequence[str],
        heads: Sequence[int],
        *,
        lexicon: Lexicon,
        lemmatizer: Lemmatizer,
        spaces: Sequence[bool] | None = None,
    ) -> None:
        self.w, self.t, self.d, self.h = list(words), list(tags), list(deps), list(heads)
        self.lex, self.lem = lexicon, lemmatizer
        self.sp = spaces if spaces is not None else [True] * len(words)
        self.kids = self._children()
        if self._repair():
            if not self._is_tree():  # a repair on an odd parse made a cycle: keep spaCy's parse instead
                self.w, self.t, self.d, self.h = list(words), list(tags), list(deps), list(heads)
            self.kids = self._children()
        self.alias: dict[int, int] = {}  # dropped partitive/framing head -> the noun it stands for
        self.consumed: set[int] = set()  # relational nouns used inside complex prepositions
        self.handled_of: set[int] = set()  # "of" preps already turned into container/partitive links
        self.names: dict[int, str] = {}
        self.starts: dict[int, int] = {}
        self._material_tokens: dict[int, list[int]] = {}
        self.attributes: list[list[str]] = []
        self.relations: list[list[str]] = []
        self._extra_attrs: dict[int, list[str]] = {}
        self._find_objects()
        self._link_of_phrases()
        self._collect_attributes()
        self._collect_relations()
        # Nouns consumed later (the "front" of "in front of") may have picked up links; keep the output closed.
        kept = set(self.objects())
        self.attributes = [a for a in self.attributes if a[0] in kept]
        self.relations = [r for r in self.relations if r[0] in kept and r[2] in kept]

    def _children(self) -> list[list[int]]:
        kids: list[list[int]] = [[] for _ in self.w]
        for i, head in enumerate(self.h):
            if head != i:
                kids[head].append(i)
        return kids

    # ---- repairs of frequent small-model mistakes on caption fragments ---------------------------------
    def _repair(self) -> bool:
        """Fix tagging/attachment errors the small model makes on verbless fragments; True if any changed."""
        w, t, d, h, lem = self.w, self.t, self.d, self.h, self.lem
        changed = False
        for i in range(len(w)):
            word, tag = w[i], t[i]
            if tag == "JJ" and lem.is_noun(word) and not lem.is_adjective(word):
                if d[i] == "amod" and h[i] < i and t[h[i]] in _NOUN_TAGS:  # "fire/NN hydrant/JJ"
                    t[i] = "NN"
                    self._promote(i, h[i], "compound", move_all=True)
                    changed = True
                elif d[i] in _NOMINAL_DEPS:  # "coffee and croissant/JJ"
                    t[i] = "NN"
            elif tag in ("NN", "NNS") and word.endswith("ing") and word not in _ING_NOUNS and i > 0:
                c = i - 1  # "zebra/compound standing/NN in grass": the -ing word is a participle
                verbal = any(d[k] in ("prep", "dobj") for k in self.kids[i])
                if d[c] == "compound" and h[c] == i and t[c] in _NOUN_TAGS and verbal:
                    self._promote(c, i, "acl", move_all=False)
                    t[i] = "VBG"
                    changed = True
                elif verbal and not any(d[k] in ("det", "poss", "amod") for k in self.kids[i]):
                    owner = self._phrase_owner(i)  # "person on a motorcycle riding/NN down the road"
                    if owner is not None:
                        t[i], d[i], h[i] = "VBG", "acl", owner
                        changed = True
            elif tag == "VBG" and d[i] == "compound" and i > 0 and t[i - 1] in ("NN", "NNS") \
                    and d[i - 1] != "compound" and h[i] > i:
                obj = h[i]  # "cat drinking/compound water": a participle with its object
                h[i], d[i] = i - 1, "acl"
                h[obj], d[obj] = i, "dobj"
                changed = True
            elif (tag == "MD" and d[i] != "aux" and lem.is_noun(word)
                    and not any(t[k].startswith("VB") for k in self.kids[i])):
                t[i] = "NN"  # "a metal trash can"
                for k in self.kids[i]:
                    if k == i - 1 and d[k] == "nsubj":
                        d[k] = "compound"
            elif (tag == "VB" and d[i] == "ROOT" and lem.is_noun(word) and word not in _IMPERATIVES
                    and all(t[k] in ("DT", "JJ") for k in range(i))
                    and not any(d[k] in ("nsubj", "dobj", "aux") for k in self.kids[i])):
                t[i] = "NN"  # "shadow on the ground": a fragment read as an imperative
        return changed

    def _is_tree(self) -> bool:
        n = len(self.h)
        for i in range(n):
            k, steps = i, 0
            while self.h[k] != k:
                k = self.h[k]
                steps += 1
                if steps > n:
                    return False
        return True

    def _phrase_owner(self, i: int) -> int | None:
        """The noun a stray participle at i belongs to: the nearest noun before it, climbed out of PPs."""
        x = next((k for k in range(i - 1, -1, -1) if self.t[k] in _NOUN_TAGS and self.d[k] != "compound"), None)
        while x is not None and self.d[x] == "pobj" and self.t[self.h[self.h[x]]] in _NOUN_TAGS:
            x = self.h[self.h[x]]
        return x

    def _promote(self, c: int, g: int, new_dep: str, *, move_all: bool) -> None:
        """Put token c in g's place in the tree and hang g under c as `new_dep`.

        g's dependents left of c (determiners, adjectives) move to c; with move_all, all of them do.
        """
        self.h[c], self.d[c] = (c if self.h[g] == g else self.h[g]), self.d[g]
        self.h[g], self.d[g] = c, new_dep
        for k in self.kids[g]:
            if k != c and (move_all or k < c):
                self.h[k] = c

    # ---- objects -------------------------------------------------------------------------------------
    def _is_noun(self, i: int) -> bool:
        word = self.w[i]
        return self.t[i] in _NOUN_TAGS and word not in self.lex.non_objects and word.isalpha() and len(word) > 1

    def _find_objects(self) -> None:
        w, d = self.w, self.d
        for i in range(len(w)):
            if not self._is_noun(i):
                continue
            if d[i] in ("compound", "nmod") and self.h[i] > i and self._is_noun(self.h[i]):
                continue
            if d[i] == "amod" and self.h[i] > i:  # an adjective mis-tagged as a noun ("white clouds")
                continue
            self.names[i] = self._name(i)

    def _name(self, h: int) -> str:
        """Head lemma plus the adjacent compound modifiers (surface form); colours/materials stop the name."""
        w, d = self.w, self.d
        head = self._head_lemma(h)
        start = h
        j = h - 1
        while j >= 0 and j < self.h[j] <= h:
            word, dep = w[j], d[j]
            candidate = self._join(j, h) + (" " if self.sp[h - 1] else "") + head
            if dep in ("compound", "nmod", "amod") and candidate in self.lex.fixed_compounds:
                start = j
            elif dep == "punct" and word == "-" and j > 0 and j - 1 < self.h[j - 1] <= h:
                start = j - 1  # "t - shirt": keep hyphenated compounds whole
            elif dep in ("compound", "nmod") and word.isalpha():
                if word in self.lex.colours or word in self.lex.materials:
                    self._extra_attrs.setdefault(h, []).append(word)
                    self._material_tokens.setdefault(h, []).append(j)
                    break
                start = j
            else:
                break
            j = start - 1
        self.starts[h] = start
        if start == h:
            return head
        return self._join(start, h) + (" " if self.sp[h - 1] else "") + head

    def _join(self, a: int, b: int) -> str:
        """Words a..b-1 joined with their original spacing."""
        out = []
        for k in range(a, b):
            out.append(self.w[k])
            if k < b - 1 and self.sp[k]:
                out.append(" ")
        return "".join(out)

    def _head_lemma(self, i: int) -> str:
        word, tag = self.w[i], self.t[i]
        if word == "glasses" and (self._of_child(i) is not None or self.d[i - 1 : i] == ["compound"]):
            return "glass"
        return self.lem.lemma(word, tag)

    def _of_child(self, i: int) -> int | None:
        for c in self.kids[i]:
            if self.d[c] == "prep" and self.w[c] == "of" and c > i:
                return c
        return None

    def _pobjs(self, p: int) -> list[int]:
        return [c for c in self.kids[p] if self.d[c] == "pobj"]

    def _link_of_phrases(self) -> None:
        for h in list(self.names):
            of = self._of_child(h)
            if of is None:
                continue
            targets = [o for o in self._pobjs(of) if o in self.names]
            if not targets:
                continue
            lemma = self._head_lemma(h)
            if lemma in self.lex.partitives or (lemma in self.lex.framing and self._is_caption_root(h)):
                self.alias[h] = targets[0]
                self.handled_of.add(of)
            elif lemma in self.lex.containers:
                pred = self.lex.containers[lemma]
                for t in self._group(targets[0]):
                    self._add_rel(t, pred, h)
                self.handled_of.add(of)

    def _is_caption_root(self, i: int) -> bool:
        return self.d[i] in ("ROOT", "dep", "appos", "npadvmod") or (
            self.d[i] == "compound" and self.d[self.h[i]] == "ROOT"
        )

    def resolve(self, i: int) -> int | None:
        """The object index a token stands for (following partitive aliases), or None."""
        seen = 0
        while i in self.alias and seen < 8:
            i = self.alias[i]
            seen += 1
        if i in self.names and i not in self.consumed:
            return i
        return None

    def _group(self, i: int) -> list[int]:
        """The token and its conjuncts ("a dog and a cat"), resolved to objects."""
        out: list[int] = []
        stack = [i]
        while stack:
            k = stack.pop()
            stack.extend(c for c in self.kids[k] if self.d[c] == "conj")
            if k in self.alias:
                stack.append(self.alias[k])
                continue
            r = self.resolve(k)
            if r is not None and r not in out:
                out.append(r)
        return sorted(out)

    def _group_for_modifier(self, h: int, mod: int) -> list[int]:
        """A modifier after the last of several conjoined nouns applies to all of them."""
        root = h
        while self.d[root] == "conj" and self.h[root] != root and self.t[self.h[root]] in _NOUN_TAGS:
            root = self.h[root]
        if root != h and self.d[root] not in _GROUP_ROOT_SKIP and mod > h:
            members = self._group(root)
            if members and self.resolve(h) == members[-1]:
                return members
        return self._group_single(h)

    def _group_single(self, h: int) -> list[int]:
        r = self.resolve(h)
        return [] if r is None else [r]

    # ---- attributes ----------------------------------------------------------------------------------
    def _collect_attributes(self) -> None:
        for h in self.names:
            if h in self.alias:
                continue
            for word in self._extra_attrs.get(h, ()):
                self._add_attr(h, word)
            # Adjectives may hang on a compound modifier ("modern/amod kitchen interior").
            holders = [*range(self.starts[h], h + 1), *self._material_tokens.get(h, ())]
            for k in holders:
                for c in self.kids[k]:
                    if self.d[c] == "amod" and c < k and not self._in_name(c, h):
                        for a in self._adj_group(c):
                            self._add_attr(h, self.w[a])

    def _in_name(self, c: int, h: int) -> bool:
        return c >= self.starts[h]

    def _adj_group(self, a: int) -> list[int]:
        out = [a]
        for c in self.kids[a]:
            if self.d[c] == "conj" and (self.t[c] in _ADJ_TAGS or self.w[c] in self.lex.colours):
                out.extend(self._adj_group(c))
        return out

    def _add_attr(self, h: int, word: str) -> None:
        if not word.isalpha() or word in self.lex.non_attributes:
            return
        item = [self.names[h], word]
        if item not in self.attributes:
            self.attributes.append(item)

    # ---- relations -----------------------------------------------------------------------------------
    def _add_rel(self, s: int, pred: str, o: int) -> None:
        if s == o:
            return
        item = [self.names[s], pred, self.names[o]]
        if item not in self.relations:
            self.relations.append(item)

    def _collect_relations(self) -> None:
        for i in range(len(self.w)):
            tag = self.t[i]
            if tag.startswith("VB") and self.d[i] not in ("aux", "auxpass"):
                self._verb(i)
            elif i in self.names:
                self._noun(i)

    def _noun(self, h: int) -> None:
        for c in self.kids[h]:
            dep = self.d[c]
            if dep == "poss" and c < h:
                for s in self._group_single(c):
                    for o in self._group_single(h):
                        self._add_rel(s, "have", o)
            elif c > h and (dep in _PREP_DEPS or dep in ("advmod", "amod", "npadvmod", "acomp")):
                phrases = self._prep_phrases(c)
                if phrases:
                    subjects = self._group_for_modifier(h, c)
                    for pred, o in phrases:
                        for s in subjects:
                            self._add_rel(s, pred, o)

    def _prep_phrases(self, p: int) -> list[tuple[str, int]]:
        """(preposition, object) pairs under a preposition token, expanding complex prepositions."""
        if p in self.handled_of or self.d[p] == "agent":
            return []
        word = self.w[p]
        if self.d[p] in ("advmod", "amod", "npadvmod", "acomp") or (self.d[p] == "prt" and not self._pobjs(p)):
            # "next to", "close to": an adverb heading a preposition; other adverbs ("high above") drop out.
            inner = [c for c in self.kids[p] if self.d[c] in _PREP_DEPS]
            out = []
            for q in inner:
                for pred, o in self._prep_phrases(q):
                    out.append((word + " " + pred if word in self.lex.prep_adverbs else pred, o))
            return out
        out = []
        pobjs = self._pobjs(p)
        if not pobjs:
            for q in self.kids[p]:
                if self.d[q] in ("prep", "pcomp") and q > p:
                    out.extend((word + " " + pred, o) for pred, o in self._prep_phrases(q))
            return out
        for o in pobjs:
            if self.w[o] in self.lex.relational_nouns:
                of = self._of_child(o)
                if of is not None:
                    self.consumed.add(o)
                    out.extend((word + " " + self.w[o] + " " + pred, t) for pred, t in self._prep_phrases(of))
                    continue
            for t in self._group(o):
                out.append((word, t))
        return out

    def _verb(self, v: int) -> None:
        w, d = self.w, self.d
        kids = self.kids[v]
        lemma = self.lem.verb(w[v], self.t[v] in _INFLECTED)
        if lemma == "be" or w[v] in _BE:
            self._copula(v)
            return
        particles = [w[c] for c in kids if d[c] == "prt" and not self._pobjs(c)]
        base = " ".join([lemma, *particles])
        agents = [o for c in kids if d[c] == "agent" for p in self._pobjs(c) for o in self._group(p)]
        passive_subj = [o for c in kids if d[c] == "nsubjpass" for o in self._group(c)]
        if not passive_subj and d[v] in ("acl", "relcl") and self.t[v] == "VBN":
            passive_subj = self._group_for_modifier(self.h[v], v)
        preps = [c for c in kids if c > v and (d[c] in _PREP_DEPS or d[c] in _PREP_LIKE_DEPS)]
        dobjs = [o for c in kids if d[c] == "dobj" for o in self._group(c)]
        if passive_subj and not agents and not dobjs:
            if not preps and not particles and d[v] in ("ROOT", "conj") and self.t[v] == "VBN":
                for s in passive_subj:  # "the floor is tiled": a participle used as an adjective
                    self._add_attr(s, w[v])
                return
            subjects = passive_subj
        elif agents:
            subjects = agents
            dobjs = passive_subj
        else:
            subjects = self._subjects(v)
        for s in subjects:
            for o in dobjs:
                self._add_rel(s, base, o)
        for p in preps:
            for pred, o in self._prep_phrases(p):
                full = pred if dobjs else base + " " + pred
                for s in subjects:
                    self._add_rel(s, full, o)

    def _subjects(self, v: int, depth: int = 0) -> list[int]:
        d = self.d
        subj = [c for c in self.kids[v] if d[c] in ("nsubj", "csubj")]
        if subj:
            out: list[int] = []
            for s in subj:
                if self.w[s] in self.lex.relative_pronouns and d[v] == "relcl":
                    out.extend(self._group_for_modifier(self.h[v], v))
                else:
                    out.extend(self._group(s))
            return out
        if d[v] in ("acl", "relcl"):
            return self._group_for_modifier(self._acl_owner(v), v)
        if d[v] == "ROOT":  # "woman/npadvmod walking dog": a fragment whose noun was not read as subject
            left = [c for c in self.kids[v] if c < v and d[c] in ("npadvmod", "dep", "nmod", "appos")]
            return [o for c in left for o in self._group(c)]
        head = self.h[v]
        if depth < 6 and head != v and d[v] in ("conj", "xcomp", "advcl", "ccomp", "dep", "pcomp"):
            if self.t[head].startswith("VB"):
                return self._subjects(head, depth + 1)
            if head in self.names and d[v] != "ccomp":
                return self._group_for_modifier(head, v)
        return []

    def _acl_owner(self, v: int) -> int:
        """"A man in a suit talking ..." / "a plate with food sitting ...": an active participle after the object
        of "with" or "in" describes the noun that owns that prepositional phrase."""
        head = self.h[v]
        prep = self.h[head]
        if (self.t[v] == "VBG" and self.d[v] == "acl" and self.d[head] == "pobj" and self.w[prep] in ("with", "in")
                and self.t[self.h[prep]] in _NOUN_TAGS and self.h[prep] != prep):
            return self.h[prep]
        return head

    def _copula(self, v: int) -> None:
        d = self.d
        kids = self.kids[v]
        if any(d[c] == "expl" for c in kids):
            subjects = [o for c in kids if d[c] == "attr" for o in self._group(c)]
        else:
            subjects = [o for c in kids if d[c] == "nsubj" for o in self._group(c)]
        for c in kids:
            if d[c] == "acomp":
                for a in self._adj_group(c):
                    for s in subjects:
                        self._add_attr(s, self.w[a])
            if c > v and d[c] in _PREP_DEPS:
                for pred, o in self._prep_phrases(c):
                    for s in subjects:
                        self._add_rel(s, pred, o)

    # ---- output --------------------------------------------------------------------------------------
    def objects(self) -> list[str]:
        out: list[str] = []
        for i in sorted(self.names):
            if self.resolve(i) == i and self.names[i] not in out:
                out.append(self.names[i])
        return out

    def tags(self) -> list[str]:
        """Tag candidates before mapping: objects, attribute words, then content-verb lemmas."""
        out = self.objects()
        seen = set(out)
        for _, a in self.attributes:
            if a not in seen:
                seen.add(a)
                out.append(a)
        for i, tag in enumerate(self.t):
            if tag.startswith("VB") and self.d[i] not in ("aux", "auxpass") and self.w[i].isalpha():
                lemma = self.lem.verb(self.w[i], tag in _INFLECTED)
                if lemma not in self.lex.light_verbs and lemma not in seen and self.w[i] not in _BE:
                    seen.add(lemma)
                    out.append(lemma)
        return out
