"""German. Field meanings: see en.py. "halb vier" is half TO four (3:30); "am" is "on the"
("am Freitag"), never a.m.; "morgen" is tomorrow except in "guten Morgen", "am Morgen"."""

from teamops.mentions.lexicon import compounds, words

CUES_SINGLE = words("um gegen ab bis")
CUES_RANGE = words("von")
CUES_BETWEEN = words("zwischen")
OR_WORDS = words("oder und")
AND_WORDS = words("und")
DURATION_BEFORE = words("über für seit nach dauert dauerte")
RANGE_WORDS = words("bis und")
RANGE_NOT_AFTER = words("verschoben verschieben verlegt verlegen")
WEEKDAY_SPAN_WORDS = words("bis")

COUNTED_NOUNS = words("mal male tage tagen stunden minuten leute personen prozent wochen monate jahre "
                      "stück punkte tickets ecken stellen nutzer nutzern benutzer benutzern kunden "
                      "teilnehmer teilnehmern mitarbeiter mitarbeitern versuche versuchen fehler euro")
DURATION_NOUNS = words("von stunden fahrt flug schicht")
NOT_CLOCK_BEFORE = words("dauer laufzeit dauerte dauert brauchte braucht spielstand stand ergebnis endstand")
# "hat 1:20 gedauert": German puts the verb after the duration.
NOT_CLOCK_AFTER = words("gedauert gebraucht gekostet lang stunden minuten")

# "15 Uhr" makes a bare number a time on its own.
OCLOCK_WORDS = words("uhr")
NOON_WORDS = words("mittag")
MIDNIGHT_WORDS = words("mitternacht")
# After "am", these make it German "on the", not a.m.: "am Freitag um 3", "am 3. Mai".
# After a clock said in German, a lower-case "am" is always "on the" ("dreiviertel 8 am Bahnhof").
AM_IS_A_WORD = True
MERIDIEM_BLOCKERS = words("montag dienstag mittwoch donnerstag freitag samstag sonntag wochenende morgen "
                          "abend nachmittag vormittag mittag")

_UNITS = {"ein": 1, "zwei": 2, "drei": 3, "vier": 4, "fünf": 5, "sechs": 6, "sieben": 7, "acht": 8, "neun": 9}
_TENS = {"zwanzig": 20, "dreißig": 30, "dreissig": 30, "vierzig": 40, "fünfzig": 50}
NUMBERS = {
    "eins": 1, "ein": 1, "zwei": 2, "zwo": 2, "drei": 3, "vier": 4, "fünf": 5, "fuenf": 5, "sechs": 6,
    "sieben": 7, "acht": 8, "neun": 9, "zehn": 10, "elf": 11, "zwölf": 12, "zwoelf": 12,
    "dreizehn": 13, "vierzehn": 14, "fünfzehn": 15, "fuenfzehn": 15, "sechzehn": 16, "siebzehn": 17,
    "achtzehn": 18, "neunzehn": 19, **_TENS, **compounds(_TENS, _UNITS, "{u}und{t}"),
}
QUARTER_WORDS = {"viertel": 15}
WORD_HOUR_FOLLOWERS = words("""
oder und dann ok okay passt geht gehts klappt bitte heute morgen übermorgen ist wäre am im bei
treffen los statt da rum herum ich wir du ihr er sie bin bist sind seid habe hab hast haben
kann können könnte kannst sollten sollen müssen muss wollen will würde fangen starten gehen
sehen hören telefonieren telko call meeting daily jour wieder spätestens frühestens
""")
CLOCK_PHRASES = (
    ("{h} uhr {m}", "h:m", "strong"),  # "15 Uhr 20"
    ("halb {h}", "h-1:30", "strong"),  # half TO four
    ("viertel nach {h}", "h:15", "strong"),
    ("viertel vor {h}", "h-1:45", "strong"),
    ("dreiviertel {h}", "h-1:45", "strong"),
    ("drei viertel {h}", "h-1:45", "strong"),
    ("viertel {h}", "h-1:15", "strong"),  # eastern German: "viertel vier" = 3:15
    ("{m5} nach halb {h}", "h-1:30+m", "strong"),
    ("{m5} vor halb {h}", "h-1:30-m", "strong"),
    ("{m5} minuten? nach {h}", "h:m", "strong"),
    ("{m5} minuten? vor {h}", "h-1:60-m", "strong"),
    ("{h} {mm}", "h:m", "cue"),  # "um acht dreißig"
)

DAY_OFFSETS = {"heute": 0, "morgen": 1, "übermorgen": 2, "gestern": -1}
DAY_PHRASES = {"heute abend": 0, "heute nachmittag": 0, "heute früh": 0, "heute morgen": 0}
# "guten Morgen", "am Morgen", "jeden Morgen": the morning, not tomorrow.
NOT_DAY_BEFORE = {"morgen": words("guten am heute jeden den diesen gestern vom zum schönen einen")}
WEEKDAYS = {}
for _n, _names in enumerate(("montag montags", "dienstag dienstags", "mittwoch mittwochs",
                             "donnerstag donnerstags", "freitag freitags", "samstag samstags sonnabend",
                             "sonntag sonntags")):
    WEEKDAYS.update({name: _n for name in _names.split()})
NEXT_WORDS = words("nächsten nächster nächste nächstes kommenden kommender kommende")
MONTHS = {}
for _n, _names in enumerate(("januar", "februar", "märz maerz", "april", "mai", "juni", "juli", "august",
                             "september", "oktober", "november", "dezember"), start=1):
    MONTHS.update({name: _n for name in _names.split()})

DAY_PARTS = {"morgens": "am", "früh": "am", "vormittag": "am", "vormittags": "am", "am vormittag": "am",
             "am morgen": "am", "nachmittags": "pm", "nachmittag": "pm", "am nachmittag": "pm",
             "mittags": "pm", "abends": "evening", "abend": "evening", "am abend": "evening",
             "nachts": "night", "in der nacht": "night"}
DAY_PARTS_NOT_ALONE = words("abend nachmittag vormittag früh")
GREETINGS = ("guten morgen", "guten abend", "guten tag")
SINCE_WORDS = words("seit")
PAST_NIGHT = ("letzte nacht",)
ZONE_PHRASES = {"deutscher zeit": "Europe/Berlin", "berliner zeit": "Europe/Berlin"}
