"""Scores of an evaluation on texts with known edits (exact CER, WER, word F1), each normalisation
step, and the leaderboard's micro and macro averages per backend and per kind."""

import pytest

from orchestrator.evaluation_scores import Scored, leaderboard, score
from orchestrator.text_metrics import TextCounts, word_f1
from orchestrator.text_normalization import (
    Normalization,
    collapse_whitespace,
    fold_case,
    fold_unicode,
    strip_markdown,
)
from shared.errors import InvalidOption

NONE = Normalization.parse("none")


def test_one_substitution():
    counts = score("the cat sat", "the bat sat", NONE)
    assert counts.cer == round(1 / 11, 4) and counts.wer == round(1 / 3, 4)
    assert counts.word_f1 == round(2 / 3, 4)  # 2 of 3 words in common both ways


def test_one_deletion():
    counts = score("one two three four", "one two four", NONE)
    assert counts.char_edits == 6 and counts.cer == round(6 / 18, 4)
    assert counts.wer == 0.25
    # precision 3/3, recall 3/4
    assert counts.word_f1 == round(2 * 1 * 0.75 / 1.75, 4)


def test_reordered_words_are_found_but_misplaced():
    counts = score("alpha beta gamma delta", "gamma delta alpha beta", NONE)
    assert counts.word_f1 == 1.0
    assert counts.wer == 1.0 and counts.cer > 0


def test_identical_and_empty():
    assert score("same text", "same text", NONE).as_tuple()[::2] == (0, 0, 2)
    empty = TextCounts.of("", "")
    assert (empty.cer, empty.wer, empty.word_f1) == (0.0, 0.0, 1.0)
    assert TextCounts.of("", "x").cer == 1.0 and TextCounts.of("x", "").word_f1 == 0.0


def test_word_f1_is_the_one_function_the_bench_uses():
    import bench.accuracy

    assert bench.accuracy.word_f1 is word_f1
    assert word_f1("a b c", "c b a") == 1.0


def test_each_normalisation_step():
    assert strip_markdown("# Title\n\n**bold** and _it_ | cell |\n|---|---|\n<b>x</b> \\# y").split() == [
        "Title",
        "bold",
        "and",
        "it",
        "cell",
        "x",
        "#",
        "y",
    ]
    assert strip_markdown("- item\n> quote\n`code`").split() == ["item", "quote", "code"]
    assert fold_unicode("ﬁne １２") == "fine 12"
    assert fold_case("MiXeD Straße") == "mixed strasse"
    assert collapse_whitespace("  a \n\n b\t c ") == "a b c"


def test_normalisation_flags_change_the_score():
    reference, hypothesis = "Hello World", "# hello   world"
    assert score(reference, hypothesis, Normalization()).cer == 0.0
    assert score(reference, hypothesis, Normalization.parse("-case")).cer > 0
    assert score(reference, hypothesis, Normalization.parse("case,whitespace")).cer > 0  # the '#' stays
    assert score(reference, hypothesis, Normalization.parse("markdown,case")).cer > 0  # spaces stay


def test_normalisation_parse():
    assert Normalization.parse(None) == Normalization() == Normalization.parse("all")
    assert Normalization.parse("none").to_json() == dict.fromkeys(("markdown", "unicode", "case", "whitespace"), False)
    assert Normalization.parse("-markdown") == Normalization(markdown=False)
    assert Normalization.parse("case") == Normalization(markdown=False, unicode=False, whitespace=False)
    for bad in ("lower", "case,-markdown"):
        with pytest.raises(InvalidOption):
            Normalization.parse(bad)


def _row(document, kind, backend, reference, hypothesis, seconds=1.0, pages=1):
    return Scored(document, kind, backend, score(reference, hypothesis, NONE), pages, seconds)


def test_micro_pools_and_macro_averages():
    rows = [
        _row("short", "a", "x", "abcd", "abcx"),  # 1 edit of 4: CER 0.25
        _row("long", "b", "x", "a" * 16, "a" * 16, seconds=3.0, pages=2),  # 0 of 16
        Scored("broken", "b", "x", None, 1, 5.0, {"code": "inference_failed"}),
    ]
    [entry] = leaderboard(rows, ["x"])
    assert entry["cer"] == round(1 / 20, 4)  # pooled: 1 edit over 20 characters
    assert entry["macro"]["cer"] == 0.125  # mean of 0.25 and 0.0
    assert entry["documents"] == 2 and entry["failed"] == 1
    assert entry["pages_per_second"] == round(3 / 4.0, 4)  # failed documents' time left out
    assert entry["by_kind"] == {
        "a": {"documents": 1, "cer": 0.25, "wer": 1.0, "word_f1": 0.0},
        "b": {"documents": 1, "cer": 0.0, "wer": 0.0, "word_f1": 1.0},
    }


def test_leaderboard_is_sorted_by_micro_cer_and_failures_last():
    rows = [
        _row("d", "k", "worse", "abcd", "wxyz"),
        _row("d", "k", "better", "abcd", "abcd"),
        Scored("d", "k", "down", None, 1, 0.1, {"code": "backend_unavailable"}),
    ]
    board = leaderboard(rows, ["worse", "down", "better"])
    assert [entry["backend"] for entry in board] == ["better", "worse", "down"]
    assert board[-1]["cer"] is None and board[-1]["macro"]["cer"] is None and board[-1]["pages_per_second"] is None


def test_a_result_states_its_rates_and_time_per_page():
    data = _row("d", "k", "x", "a b", "a c", seconds=3.0, pages=2).to_json()
    assert data["seconds_per_page"] == 1.5 and data["wer"] == 0.5 and data["error"] is None
