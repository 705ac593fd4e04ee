"""Closed word classes the caption parser needs beyond what the dependency parse says.

These are plain data so they can be printed, diffed and extended; the parser takes a `Lexicon` object
(defaults below) instead of reading module globals, so a caller can swap any set.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def words(text: str) -> frozenset[str]:
    """A word set written as one space-separated string (easier to read and diff than a list)."""
    return frozenset(text.split())


COLOURS = words(
    "red orange yellow green blue purple violet pink brown black white gray grey silver gold "
    "golden beige tan maroon navy teal turquoise cyan magenta lavender cream ivory khaki olive "
    "crimson scarlet bronze copper blond blonde"
)

# Materials are attributes of the thing made of them ("metal bench" -> bench, metal), never part of its name.
MATERIALS = words(
    "wooden wood metal metallic steel iron stone brick glass plastic leather paper cardboard "
    "ceramic concrete marble granite wicker straw cotton wool woolen silk denim rubber clay "
    "porcelain bamboo stainless aluminum aluminium tin chrome velvet fur lace canvas fabric "
    "cloth wire"
)

# Head nouns of "X of Y" that only count or group Y: Y is the object, X is dropped.
PARTITIVES = words(
    "group groups bunch herd flock pack pair couple lot lots number pile stack row set line "
    "crowd team slice slices piece pieces part variety assortment collection array handful "
    "cluster bundle dozen kind type sort bouquet school swarm fleet litter bit plenty load "
    "loads series bunches"
)

# Head nouns that frame the whole caption ("a photo of a dog"): dropped when they are the caption's root.
FRAMING = words(
    "photo photograph picture image pic view closeup shot snapshot illustration drawing "
    "rendering painting portrait sketch render photography footage scene"
)

# "X of Y" where X holds Y: both are objects, linked as (Y, in|on, X).
CONTAINERS: dict[str, str] = {
    **dict.fromkeys(
        words(
            "glass cup mug bowl bottle box basket bag jar bucket carton can pot vase pitcher jug crate "
            "container barrel tank kettle pan tub sack pail cooler thermos flask teapot"
        ),
        "in",
    ),
    **dict.fromkeys(words("plate tray platter dish saucer board"), "on"),
}

# Nouns inside complex prepositions ("in front of", "on top of", "on the side of").
RELATIONAL_NOUNS = words("front top middle side edge back bottom center centre corner end rear")

# Adverbs/adjectives that form two-word prepositions with "to"/"from"/"of" ("next to", "close to").
PREP_ADVERBS = words("next close near adjacent across away ahead out outside inside because")

# Adjective + noun pairs that name one thing (checked on the lemmatised phrase).
FIXED_COMPOUNDS = frozenset(
    (
        "hot dog", "hot air balloon", "hot sauce", "french fry", "french toast", "living room", "dining room",
        "dining table", "swimming pool", "cutting board", "sliding door", "stuffed animal", "high chair",
        "sweet potato", "green bean", "polar bear", "teddy bear", "golden retriever", "orange juice",
        "red wine", "white wine", "black board", "cooling rack", "sailing boat", "washing machine",
        "running shoe", "parking lot", "parking meter", "ice cream", "christmas tree", "light bulb",
        "remote control", "cell phone", "traffic light", "fire hydrant", "stop sign", "hard drive",
        "blue jay", "red panda", "sea lion", "wild flower", "tabby cat",
    )
)

# Adjectival modifiers that are quantities or discourse words, not visual attributes.
NON_ATTRIBUTES = words(
    "many several few other various different same such own numerous multiple much more most "
    "some all each every next only whole entire certain additional another both either neither "
    "lot lots first second third last such"
)

# Nouns that stay plural as lemmas.
PLURAL_ONLY = words(
    "people pants jeans shorts scissors clothes trousers sunglasses goggles binoculars tongs "
    "pajamas overalls leggings glasses headphones earphones"
)

# Nouns that are never objects in a caption (discourse words, chat noise, time deixis).
NON_OBJECTS = words(
    "lol lmao omg haha hahaha today tonight yesterday tomorrow thing things something anything "
    "everything nothing someone somebody anyone everyone way time times rt pls plz thx thanks "
    "xoxo btw idk"
)

# Verbs that carry no tag-worthy action.
LIGHT_VERBS = words("be have do get let may can will would could should might must seem contain")

# Relative and interrogative pronouns a relative clause uses as its subject ("a man who is ...").
RELATIVE_PRONOUNS = words("who that which whom whose")


@dataclass(frozen=True)
class Lexicon:
    """The closed word classes one parser uses; override a field to change the parser's conventions."""

    colours: frozenset[str] = COLOURS
    materials: frozenset[str] = MATERIALS
    partitives: frozenset[str] = PARTITIVES
    framing: frozenset[str] = FRAMING
    containers: dict[str, str] = field(default_factory=lambda: dict(CONTAINERS))
    relational_nouns: frozenset[str] = RELATIONAL_NOUNS
    prep_adverbs: frozenset[str] = PREP_ADVERBS
    fixed_compounds: frozenset[str] = FIXED_COMPOUNDS
    non_attributes: frozenset[str] = NON_ATTRIBUTES
    plural_only: frozenset[str] = PLURAL_ONLY
    non_objects: frozenset[str] = NON_OBJECTS
    light_verbs: frozenset[str] = LIGHT_VERBS
    relative_pronouns: frozenset[str] = RELATIVE_PRONOUNS

    def __hash__(self) -> int:  # containers is a dict; identity hashing is enough for caching
        return id(self)
