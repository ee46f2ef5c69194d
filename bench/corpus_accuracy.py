"""Score the time-mention engine on a labelled corpus file or directory (the format of
tests/data/mentions/<lang>.txt), e.g. a new blind round before its cases join the tests:

    .venv/bin/python bench/corpus_accuracy.py [FILE|DIR]      # default: the test corpus

Prints exact matches, wrong negatives, and each miss as a user would see it ("SPAN ONLY" when
the instants are right and only the span text differs).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import test_mentions as corpus  # noqa: E402  (the corpus reader and checker the tests use)


def main(argv: list[str]) -> int:
    cases = corpus._load(Path(argv[0]) if argv else None)
    misses = [case for case in cases if not corpus._matches(case)]
    negatives = [case for case in cases if case.negative]
    print(f"{len(cases)} cases: {len(cases) - len(misses)} exact ({(len(cases) - len(misses)) / len(cases):.1%}); "
          f"negatives answered: {sum(c.negative for c in misses)} of {len(negatives)}")
    languages = sorted({case.language for case in cases})
    if len(languages) > 1:
        for language in languages:
            mine = [c for c in cases if c.language == language]
            wrong = [c for c in mine if not corpus._matches(c)]
            print(f"  {language}: {len(mine) - len(wrong)}/{len(mine)} exact ({1 - len(wrong) / len(mine):.1%}), "
                  f"negatives answered {sum(c.negative for c in wrong)} of {sum(c.negative for c in mine)}")
    for case in misses:
        observed = corpus._observed(case)
        same = [(m["local"], m["end_local"], m["tz"]) for m in observed] == [
            (m["local"], m["end_local"], m["tz"]) for m in case.expected]
        print(f"{'SPAN ONLY' if same else 'WRONG'} {case.language} line {case.line} ({case.tz}): {case.text!r}\n"
              f"  want {corpus._show(case.expected)}\n  got  {corpus._show(observed)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
