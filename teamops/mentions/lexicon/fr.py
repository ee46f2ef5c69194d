"""French. Field meanings: see en.py. "15h", "15h30", "15 h 30" are 24-hour; a number word is a
time only with "heure(s)" after it ("à trois" is "three of us"); "deux heures et demie" without a
cue is a length ("prévois deux heures et demie"); the "midi" in "après-midi" is not noon."""

from teamops.mentions.lexicon import compounds, words

CUES_SINGLE = words("à vers dès avant après jusqu'à jusqu’à")
CUES_RANGE = words("de")
CUE_PAIRS = {"partir de": "single", "à partir": "single", "y a": "duration"}  # "il y a 3 heures" = ago
CUES_BETWEEN = words("entre")
# "demain a 10h": "à" typed without its accent; a weak cue, enough for "10h" at the end of a phrase.
CUES_WEAK = words("a")
OR_WORDS = words("ou et")
AND_WORDS = words("et")
DURATION_BEFORE = words("pendant durant dans chaque toutes tous en dure duré prend pris prévois prévoyez "
                        "prévoir compte comptez compter")
RANGE_WORDS = words("à et jusqu'à jusqu’à")
RANGE_ARTICLES = words("les")
RANGE_NOT_AFTER = words("déplacé décalé repoussé avancé")
WEEKDAY_SPAN_WORDS = words("à au")

COUNTED_NOUNS = words("fois jours semaines mois ans années personnes minutes secondes tentatives utilisateurs "
                      "clients tickets euros")
DURATION_NOUNS = words("de d du vol route trajet voyage travail sommeil retard décalage")
NOT_CLOCK_BEFORE = words("pris prend duré dure durée score résultat")

HOUR_WORDS = words("heures heure")
NOON_WORDS = words("midi")
MIDNIGHT_WORDS = words("minuit")
NOT_IN_CAPITALS = words("midi")  # MIDI, the file format

_UNITS = {"un": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "huit": 8, "neuf": 9}
_TENS = {"vingt": 20, "trente": 30, "quarante": 40, "cinquante": 50}
NUMBERS = {
    "une": 1, **_UNITS, "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15,
    "seize": 16, "dix-sept": 17, "dix-huit": 18, "dix-neuf": 19, **_TENS,
    **compounds(_TENS, {k: v for k, v in _UNITS.items() if v > 1}, "{t}-{u}"),
    **compounds(_TENS, {"un": 1}, "{t} et {u}", "{t}-et-{u}"),
}
QUARTER_WORDS = {"quart": 15}
# A bare number word needs "heure(s)" after it.
WORD_HOUR_NEEDS = "hour word"
CLOCK_PHRASES = (
    ("{h} heure|heures et demie|demi", "h:30", "cue"),
    ("{h} heure|heures et quart", "h:15", "cue"),
    ("{h} heure|heures moins le quart", "h-1:45", "cue"),
    ("{h} heure|heures moins {m5}", "h-1:60-m", "cue"),
    ("{h} heure|heures {m}", "h:m", "cue"),  # "quinze heures trente", "3 heures 18"
    ("{noon} et demie|demi", "h:30", "strong"),
    ("{noon} et quart", "h:15", "strong"),
    ("{noon} moins le quart", "h-1:45", "strong"),
    ("{noon} moins {m5}", "h-1:60-m", "strong"),
)

DAY_OFFSETS = {"aujourd'hui": 0, "aujourd’hui": 0, "demain": 1, "après-demain": 2}
DAY_PHRASES = {"ce soir": 0, "cet après-midi": 0, "ce matin": 0, "demain matin": 1, "demain soir": 1}
WEEKDAYS = {"lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3, "vendredi": 4, "samedi": 5, "dimanche": 6}
# "jeudi prochain": the word for "next" comes after the weekday.
NEXT_AFTER_WORDS = ("prochain", "prochaine")
MONTHS = {}
for _n, _names in enumerate(("janvier", "février fevrier", "mars", "avril", "mai", "juin", "juillet",
                             "août aout", "septembre", "octobre", "novembre", "décembre decembre"), start=1):
    MONTHS.update({name: _n for name in _names.split()})
MONTHS_NEED_CAPITAL = words("mars")

DAY_PARTS = {"du matin": "am", "matin": "am", "ce matin": "am", "demain matin": "am",
             "de l'après-midi": "pm", "de l’après-midi": "pm", "après-midi": "pm", "cet après-midi": "pm",
             "du soir": "evening", "ce soir": "evening", "soir": "evening", "demain soir": "evening",
             "de la nuit": "night", "la nuit": "night", "cette nuit": "night"}
DAY_PARTS_NOT_ALONE = words("matin soir")
# "9h30 de vendredi", "8h du matin": "de" names the day, not what lasts.
DAY_AFTER_DE = words("matin soir")
SINCE_WORDS = words("depuis")
ZONE_PHRASES = {"heure de paris": "Europe/Paris", "heure française": "Europe/Paris",
                "heure de france": "Europe/Paris", "heure de montréal": "America/Toronto"}
ORDINAL_SUFFIXES = words("er")
# "8h du matin", "9h30 de vendredi": "de" names the day or the part of it.
OF_WORDS = ("de", "du", "d'", "d’")
OF_ARTICLES = words("la le")
