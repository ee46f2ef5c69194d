"""Noticing that someone says they moved or are staying somewhere else ("I moved to Lisbon",
"I'm in Tokyo this week", "переехал в Берлин"), so the assistant can offer to switch their zone.

Only a first-person statement followed by a place the city table knows by that exact name counts:
"move to the next item", "going to lunch" and "I'm in a meeting" name no city.
"""

from __future__ import annotations

import re

_CUE = re.compile(
    r"\b(?:moved|moving|relocat|i'?m (?:now |currently |based |staying )?in\b|i am (?:now |currently )?in\b"
    r"|working from|переех|я (?:сейчас |теперь |пока )?в\b|живу в\b)",
    re.IGNORECASE,
)

# Place: one to three words starting with a capital letter (Latin or Cyrillic), e.g. "New York",
# "São Paulo", "Нью-Йорк". Lower-case words after the cue ("a meeting") never count.
_PLACE = r"(?P<place>[A-ZÀ-ÖØ-ÞА-ЯЁ][\w'’.-]*(?:[ -][A-ZÀ-ÖØ-ÞА-ЯЁ][\w'’.-]*){0,2})"

_STATEMENTS = [
    re.compile(r"\bI(?:'ve| have)? (?:just |recently |finally )?(?:moved|relocated) (?:to|back to) " + _PLACE),
    re.compile(r"\bI(?:'m| am) (?:moving|relocating) to " + _PLACE),
    re.compile(r"\bI(?:'m| am) (?:now |currently |based |staying |working )?in " + _PLACE
               + r"(?= (?:this|next|for|until|now|today|these)\b|[.!,]|$)"),
    re.compile(r"\b(?:I'm |I am )?working from " + _PLACE + r"(?= (?:this|next|for|until|now|today)\b|[.!,]|$)"),
    re.compile(r"(?i:\b(?:я )?переехал[аи]? (?:в|во) )" + _PLACE),
    re.compile(r"(?i:\bя (?:сейчас |теперь |пока |на этой неделе )?(?:в|во) )" + _PLACE),
    re.compile(r"(?i:\b(?:я )?(?:теперь |сейчас )?живу (?:в|во) )" + _PLACE),
]

# Russian place names after "в" are usually inflected (в Берлине, в Москве): try the base forms.
_RU_ENDINGS = (("е", ""), ("е", "а"), ("е", "я"), ("и", "ь"), ("и", "ы"), ("у", "а"))


def might_be(text: str) -> bool:
    """Cheap test for the webhook's quick look: could this message be a relocation statement?"""
    return _CUE.search(text) is not None


def place_phrase(text: str) -> str | None:
    """The place named in a relocation statement, as written, or None."""
    if not might_be(text):
        return None
    for pattern in _STATEMENTS:
        match = pattern.search(text)
        if match:
            return match.group("place").rstrip(".'’")
    return None


def candidates(place: str) -> list[str]:
    """The place as written, then Russian base forms of it."""
    forms = [place]
    if re.search(r"[А-Яа-яЁё]$", place):
        for ending, base in _RU_ENDINGS:
            if place.endswith(ending):
                forms.append(place[: -len(ending)] + base)
    return forms
