"""Speed of the time-mention engine on ordinary chat messages (run by hand):

    python bench/bench_parser.py

Median per-message time of teamops.mentions.find_mentions over a realistic mix of messages with
no time and with one time, printed next to a baseline measured in the same run (one precompiled
`re.search` over the same messages) and, when it is installed, dateparser.search_dates.
Goals (issue 13): no-time messages at most 10 µs, one-time messages at most 100 µs; and the
webhook prefilter must not pass word-only chat to the slow path wholesale: for each language a
no-time, word-heavy mix (number words, cue words, "half", "quarter", day words) is timed and its
prefilter pass rate printed.
"""

from __future__ import annotations

import re
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from teamops.mentions import find_mentions, might_mention_time

NO_TIME = [
    "ok sounds good",
    "thanks! 🙏",
    "lgtm, ship it",
    "can you take a look at the PR when you get a chance?",
    "I have 3 PRs to review before the release",
    "we shipped 2.14.1 yesterday, changelog is in the wiki",
    "CI is red again, flaky test in test_payments",
    "merged #1234",
    "Who's on call this week?",
    "the build takes 12 min now, down from 30",
    "coverage went up to 87.5% 🎉",
    "+1",
    "давай позже обсудим",
    "согласен, но нужно 2 ревьюера",
    "Kannst du das bitte prüfen?",
    "je regarde ça demain",
    "perfecto, gracias",
    "vou ver isso agora",
    "our p95 latency is 340ms at 10k rps",
    "ETA 2 days for the migration",
    "sorry, running 5 min late",
    "see https://github.com/org/repo/pull/42 for details",
    "use `kubectl get pods -n prod` to check",
    "we won 3-2 lol",
    "Version 10.3.0 fixes the crash on iOS 17.5",
    "room 101, second floor",
    "I'll be in the office tomorrow",
    "can someone approve my expense report?",
    "nice work everyone on the launch",
    "the meeting notes are in Notion",
]
ONE_TIME = [
    "let's meet at 15:30",
    "can we do 3pm tomorrow?",
    "standup moved to 10-11am",
    "release call at 16:00 UTC",
    "I'm free after 2, ping me",
    "sync at 9am PT on Monday?",
    "созвон завтра в 11:00 по Москве",
    "давай в 7 вечера",
    "um 15 Uhr passt mir",
    "rdv demain à 14h",
    "nos vemos a las 10:00",
    "reunião às 15h",
    "deploy window 22:00–23:00 CET",
    "lunch at noon?",
    "Can we move the sync to 15:30 CET on Friday? I have a conflict",
    "ok, 4:30pm works for me",
    "the outage started at 04:12 UTC",
    "dinner at 7 tonight",
    "with the new schedule the retro is at 16:00 every other Thursday",
    "between 3 and 5 pm works",
]
# Times said in words, one per message (issue 13).
ONE_WORD_TIME = [
    "let's meet at three",
    "half past four works for me",
    "созвон в три часа дня",
    "давай в полвосьмого",
    "um halb drei im Büro?",
    "Treffen um Viertel nach 10",
    "rendez-vous à trois heures et demie",
    "on se voit à quinze heures",
    "nos vemos a las cinco menos cuarto",
    "quedamos a las tres de la tarde",
    "te vejo às oito da noite",
    "chego quinze para as cinco",
]
# No time, but words of the kind the word reader looks for: numbers, cues, "half", day words.
WORD_HEAVY = {
    "en": ["one more thing before the release, two PRs are still open",
           "at least half of the team is out, quarter end is brutal",
           "I'll look at it after lunch, one of us should pair on it",
           "we need three reviewers and a quarter of the budget",
           "the first one to finish wins, it's a race to the bottom",
           "sorry, at one point the build broke twice",
           "let's split it in two and ship half this week",
           "can you take a look at the second draft tomorrow?"],
    "ru": ["у нас три задачи и один баг, разберём завтра",
           "половина команды в отпуске, четверть бюджета осталась",
           "в два раза быстрее после фикса, проверь пожалуйста",
           "давай после обеда обсудим, пять вопросов накопилось",
           "в одном месте упало, в другом нет",
           "это займёт три дня, не меньше"],
    "de": ["wir brauchen noch drei Reviews und einen Test",
           "die Hälfte vom Team ist im Urlaub, halb so wild",
           "um zwei Ecken gedacht, aber es passt",
           "ein Ticket ist noch offen, zwei sind erledigt",
           "kannst du das bis morgen prüfen?",
           "nach dem Release machen wir eine Retro"],
    "fr": ["on sera à trois pour la démo, une personne manque",
           "il reste deux tickets et un bug à corriger",
           "ça prend deux heures et demie de route",
           "je regarde ça demain avec une collègue",
           "à la fin du sprint on fera un point",
           "prévois une heure pour la revue"],
    "es": ["somos tres en el equipo y una persona más viene",
           "la mitad del equipo está de vacaciones",
           "tengo dos tickets y un bug pendiente",
           "lo miro mañana con una compañera",
           "a las personas del equipo les gusta el plan",
           "son las tres cosas que faltan"],
    "pt": ["somos três na equipe e uma pessoa nova chega",
           "falta uma revisão e dois testes",
           "vou ver isso amanhã com um colega",
           "as três opções estão no documento",
           "a quinta edição do evento foi ótima",
           "metade da equipe está de férias"],
}
NOW = datetime(2025, 7, 1, 9, tzinfo=timezone.utc)
BASELINE = re.compile(r"\b(?:[01]?\d|2[0-3]):[0-5]\d\b|\b\d{1,2}\s?[ap]m\b", re.I)


def _per_message_median(function, messages, repeat: int) -> float:
    """Median over messages of the best-of-5 mean time of one call, in microseconds."""
    return _paired_medians(function, None, messages, repeat)[0]


def _paired_medians(function, baseline, messages, repeat: int) -> tuple[float, float]:
    """Medians over messages of the best-of-5 mean time of one call of `function` and of
    `baseline`, timed in alternation on each message so that a shared, busy machine slows both
    alike; microseconds."""
    ours, base = [], []
    for message in messages:
        best = [float("inf"), float("inf")]
        for _ in range(5):
            for index, fn in enumerate((function, baseline)):
                if fn is None:
                    continue
                started = time.perf_counter()
                for _ in range(repeat):
                    fn(message)
                best[index] = min(best[index], (time.perf_counter() - started) / repeat)
        ours.append(best[0] * 1e6)
        base.append(best[1] * 1e6)
    return statistics.median(ours), (statistics.median(base) if baseline else 0.0)


def main() -> int:
    find = lambda text: find_mentions(text, "Europe/Berlin", NOW)  # noqa: E731
    find("warm up at 15:00 CET tomorrow")  # compiles the context patterns, loads zones
    baseline = lambda text: BASELINE.search(text)  # noqa: E731
    assert all(not find(m) for m in NO_TIME), [m for m in NO_TIME if find(m)]
    assert all(len(find(m)) == 1 for m in ONE_TIME), [m for m in ONE_TIME if len(find(m)) != 1]
    assert all(len(find(m)) == 1 for m in ONE_WORD_TIME), [m for m in ONE_WORD_TIME if len(find(m)) != 1]
    word_heavy = [m for messages in WORD_HEAVY.values() for m in messages]
    assert all(not find(m) for m in word_heavy), [m for m in word_heavy if find(m)]

    with_digits = [m for m in NO_TIME if any(ch.isdigit() for ch in m)]
    rows = []
    mixes = [("no time", NO_TIME), ("no time, with digits", with_digits), ("no time, word-heavy", word_heavy),
             ("one time", ONE_TIME), ("one time, in words", ONE_WORD_TIME)]
    for label, messages in mixes:
        ours, base = _paired_medians(find, baseline, messages, 1000)
        rows.append((label, ours, base))
    prefilter = _per_message_median(might_mention_time, NO_TIME, 2000)

    dateparser_times = {}
    try:
        from dateparser.search import search_dates

        settings = {"RELATIVE_BASE": NOW.replace(tzinfo=None), "TIMEZONE": "Europe/Berlin"}
        slow = lambda text: search_dates(text, settings=settings)  # noqa: E731
        slow("warm up at 15:00")
        for label, messages in mixes:
            dateparser_times[label] = _per_message_median(slow, messages, 1)
    except ImportError:
        pass

    print(f"teamops.mentions on {len(NO_TIME)} no-time and {len(ONE_TIME)} one-time chat messages "
          f"(median per message, Python {sys.version.split()[0]})")
    print(f"{'messages':<22}{'find_mentions':>15}{'re.search':>12}{'ratio':>9}{'goal':>9}", end="")
    print(f"{'dateparser':>13}{'dp/ours':>9}" if dateparser_times else " (dateparser not installed: skipped)")
    goals = {"no time": 10.0, "no time, with digits": 10.0, "no time, word-heavy": 10.0, "one time": 100.0,
             "one time, in words": 100.0}
    for label, ours, base in rows:
        line = f"{label:<22}{ours:>12.1f} µs{base:>9.2f} µs{ours / base:>8.0f}×{'<' + str(int(goals[label])) + ' µs':>9}"
        if label in dateparser_times:
            line += f"{dateparser_times[label]:>10.0f} µs{dateparser_times[label] / ours:>8.0f}×"
        print(line + ("" if ours < goals[label] else "   ← over the goal"))
    print(f"might_mention_time (webhook prefilter) on no-time messages: {prefilter:.2f} µs")
    print("word-heavy no-time mix per language (find_mentions median; share the prefilter passes on):")
    for language, messages in WORD_HEAVY.items():
        ours, base = _paired_medians(find, baseline, messages, 1000)
        passed = sum(might_mention_time(m) for m in messages)
        print(f"  {language}: {ours:6.1f} µs ({ours / base:4.1f}× re.search), prefilter passes {passed} of {len(messages)}")
    _worst_case(find)
    return 0


def _worst_case(find) -> None:
    """Long and pathological messages (tests/test_mentions_properties.SHAPES): each timed at
    its full length and at a tenth of it, so a time that grows faster than the length (a regex
    backtracking) shows as a ratio far above 10, next to re.search over the same text."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from test_mentions_properties import pathological

    print("worst case (best of 3): full length vs a tenth of it; ≈10× is linear")
    for blob, tenth in zip(pathological(), pathological(0.1), strict=True):
        full_s = _once(find, blob)
        tenth_s = _once(find, tenth)
        base_s = _once(BASELINE.search, blob)
        flag = "" if full_s < 1.0 and full_s / max(tenth_s, 1e-6) < 30 else "   ← not linear"
        print(f"  {blob[:12]!r:<16} {len(blob):>6} chars: {full_s * 1e3:8.1f} ms ({full_s / max(tenth_s, 1e-6):5.1f}× "
              f"the tenth; re.search {base_s * 1e3:.2f} ms){flag}")


def _once(function, text: str) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        function(text)
        best = min(best, time.perf_counter() - started)
    return best


if __name__ == "__main__":
    sys.exit(main())
