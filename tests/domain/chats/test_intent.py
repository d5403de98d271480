"""Purchase-intent scoring: the usual Argentine ways of saying "I'll buy it", typos included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from s7.domain.chats import intent


@pytest.mark.parametrize(
    ("text", "points", "signal"),
    [
        # Closing the sale is HOT at once (was 3 points: "me lo llevo" left the lead WARM).
        ("me lo llevo", intent.HOT, "cierre"),
        ("Lo compro!", intent.HOT, "cierre"),
        ("te lo transfiero", intent.HOT, "cierre"),
        ("kiero comprar unas zapas", 3, "compra"),  # k for qu
        ("yevo 2", 3, "compra"),  # y for ll
        ("me lo quedo", intent.HOT, "cierre"),
        ("reservame el negro", 3, "reserva"),
        ("Resérvamelo porfa", 3, "reserva"),
        ("resevame uno", 3, "reserva"),  # a typo in a long word
        ("paso a buscar mañana", 3, "retiro"),
        ("lo paso a buscar hoy", 3, "retiro"),
        ("cuotas sin interés?", 2, "cuotas"),
        ("en cuántas cuotas?", 2, "cuotas"),
        ("te transfiero ahora", intent.HOT, "cierre"),
        ("aceptan transferencia?", 2, "pago"),
        ("cuánto sale?", 1, "precio"),
        ("hacen envíos?", 1, "envio"),
        ("que talles hay", 1, "talle"),
    ],
)
def test_each_buying_phrase_scores_its_signal(text: str, points: int, signal: str) -> None:
    result = intent.score(text)
    assert result.points == points
    assert [s.split(":")[0] for s in result.signals] == [signal]


@pytest.mark.parametrize("text", ["hola", "buenas tardes", "gracias!", "", "mirando nomás", "jaja"])
def test_small_talk_scores_nothing(text: str) -> None:
    assert intent.score(text) == intent.IntentResult(0, [])


@pytest.mark.parametrize("text", ["no lo compro, es caro", "no me lo llevo", "todavía no lo reservo"])
def test_a_negated_phrase_does_not_count(text: str) -> None:
    assert intent.score(text).points == 0


def test_a_negation_does_not_reach_past_punctuation() -> None:
    assert intent.score("no sé, lo compro igual").points == intent.HOT


def test_signals_add_up_but_each_counts_once() -> None:
    result = intent.score("lo compro en cuotas, en 6 cuotas, y paso a buscar")
    assert result.points == intent.HOT + 2 + 3
    assert {s.split(":")[0] for s in result.signals} == {"cierre", "cuotas", "retiro"}


def test_a_word_counts_for_one_signal_only() -> None:
    # "paso" is also a (weaker) visit signal; inside "paso a buscar" it is only pick-up.
    assert intent.score("paso a buscar").signals == ["retiro: paso a buscar"]


def test_reason_names_the_phrases_for_the_audit_trail() -> None:
    assert intent.score("me lo llevo en cuotas").reason == "cierre: me lo llevo, cuotas: en cuotas"


def test_thresholds_and_selection_points_come_from_the_data_file() -> None:
    data = json.loads(intent.DATA_FILE.read_text(encoding="utf-8"))
    assert (data["thresholds"]["warm"], data["thresholds"]["hot"]) == (intent.WARM, intent.HOT)
    assert data["selection_points"] == intent.SELECTION_POINTS
    assert 0 < intent.WARM < intent.HOT


@pytest.mark.parametrize(
    ("total", "lead"), [(0, "NONE"), (intent.WARM - 1, "NONE"), (intent.WARM, "WARM"), (intent.HOT, "HOT")]
)
def test_lead_for_score_follows_the_thresholds(total: int, lead: str) -> None:
    assert intent.lead_for_score(total) == lead


def test_a_store_can_change_words_and_points_without_code(tmp_path: Path) -> None:
    data = json.loads(intent.DATA_FILE.read_text(encoding="utf-8"))
    data["signals"]["compra"] = {"points": 5, "phrases": ["la encargo"]}
    custom = tmp_path / "intent.json"
    custom.write_text(json.dumps(data), encoding="utf-8")
    rules = intent.load_rules(custom)
    assert intent.score("la encargo ya", rules).points == 5
    assert intent.score("yevo 2", rules).points == 0  # "llevo" is no longer a compra phrase there
