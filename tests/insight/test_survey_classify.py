"""The word list's suggestion for citizens' comments, on real Danish sentences."""

import pytest

from hotline.insight.classify import find_matches, load_word_list, suggest_class
from hotline.insight.models import COMMENT_CLASSES


@pytest.mark.parametrize(
    ("comment", "expected", "words"),
    [
        (
            "Tusind tak for en hurtig og venlig behandling!",
            "positive",
            ["tusind tak", "hurtig", "venlig"],
        ),
        ("Medarbejderen var super hjælpsom, fremragende service.", "positive", None),
        ("Meget imødekommende og tålmodig med mine spørgsmål", "positive", None),
        ("Jeg fik svar på det hele. Tak", "positive", ["fik svar", "tak"]),
        ("Tak for hjælpen, men det tog lang tid at komme igennem.", "sceptical", None),
        ("Jeg forstår ikke reglerne om boligstøtte", "sceptical", ["forstår ikke"]),
        ("Måske – jeg er stadig i tvivl om fristen", "sceptical", ["måske", "tvivl"]),
        ("Svaret var lidt uklart", "sceptical", ["uklart"]),
        ("Dårlig service og en uhøflig medarbejder", "negative", ["dårlig", "uhøflig"]),
        ("Alt for lang ventetid, og svaret var forkert", "negative", None),
        ("Hjemmesiden virker ikke, og jeg fik ingen hjælp", "negative", None),
        ("Jeg er meget utilfreds", "negative", ["utilfreds"]),
    ],
)
def test_real_comments_get_the_class_a_reader_would_give(comment, expected, words):
    suggestion = suggest_class(comment, score=3)

    assert suggestion.comment_class == expected, suggestion
    if words is not None:
        assert suggestion.words == words


@pytest.mark.parametrize(
    ("comment", "expected", "words"),
    [
        ("Det var ikke god hjælp", "negative", ["ikke god"]),
        ("Hun var ikke særlig hjælpsom", "negative", ["ikke særlig hjælpsom"]),
        ("Aldrig hurtigt nok", "negative", ["aldrig hurtigt"]),
        ("Det var ikke dårligt", "sceptical", ["ikke dårligt"]),
        ("Jeg er ikke helt tilfreds", "sceptical", ["ikke helt", "tilfreds"]),
        # "ingen" belongs to "tvivl" (and cancels it), not to the praise after it.
        ("Ingen tvivl: fremragende service", "positive", ["fremragende"]),
        # A sentence ends a negation.
        ("Ikke noget at klage over. God service", "positive", ["god"]),
    ],
)
def test_negation_is_simple_and_local(comment, expected, words):
    suggestion = suggest_class(comment, score=3)

    assert (suggestion.comment_class, suggestion.words) == (expected, words)


def test_a_phrase_beats_its_words_and_a_word_inside_it_negates_nothing_after_it():
    matches = find_matches("MitID virker ikke godt")

    assert [(m.text, m.counts_as) for m in matches] == [
        ("virker ikke", "negative"),
        ("godt", "positive"),
    ]


def test_doubts_hold_praise_back_but_only_complaints_make_a_comment_negative():
    weight = load_word_list().sceptical_weight

    praise = suggest_class("Tak, venlig", score=1)
    reserved = suggest_class("Venlig og hurtig, men jeg er usikker", score=5)
    held_back = suggest_class("Tak, men jeg forstår stadig ikke", score=5)
    doubts = suggest_class("Måske, men jeg er i tvivl", score=5)
    complaint = suggest_class("Venlig, men uhøflig og forkert", score=5)

    assert (praise.total, praise.comment_class) == (2, "positive")
    assert (reserved.total, reserved.comment_class) == (2 - 2 * weight, "positive")
    assert (held_back.total, held_back.comment_class) == (1 - 2 * weight, "sceptical")
    assert doubts.comment_class == "sceptical"
    assert complaint.comment_class == "negative"


@pytest.mark.parametrize(
    ("score", "expected"), [(1, "negative"), (2, "negative"), (3, "sceptical"), (5, "positive")]
)
def test_a_comment_without_listed_words_follows_the_score(score, expected):
    suggestion = suggest_class("Jeg ringede om mit sygesikringsbevis", score=score)

    assert suggestion.comment_class == expected
    assert suggestion.from_score and suggestion.words == []


def test_no_comment_no_class():
    assert suggest_class("", score=5).comment_class is None
    assert suggest_class("   \n", score=1).comment_class is None


def test_the_shipped_list_has_every_class_and_no_entry_twice():
    word_list = load_word_list()

    assert set(word_list.entries) == set(COMMENT_CLASSES)
    texts = [e.text for entries in word_list.entries.values() for e in entries]
    assert len(texts) == len(set(texts))
    assert {"tak", "hjælpsom*", "men", "måske", "dårlig*", "virker ikke"} <= set(texts)
    assert "ikke" in word_list.negations
