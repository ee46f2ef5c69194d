"""Spanish. Field meanings: see en.py. "las" before a number means hours ("a las tres", "son las
cinco y media"); "mañana" is tomorrow except after "la/esta/por/de" (the morning)."""

from teamops.mentions.lexicon import compounds, words

# Two-word cues: an article after a preposition.
CUE_PAIRS = {"a la": "single", "a las": "single", "sobre la": "single", "sobre las": "single",
             "hacia la": "single", "hacia las": "single", "hasta la": "single", "hasta las": "single",
             "son las": "single", "es la": "single", "desde la": "range", "desde las": "range",
             "de la": "range", "de las": "range", "entre la": "between", "entre las": "between",
             "tipo las": "single", "como a las": "single"}
CUES_RANGE = words("desde de")
CUES_BETWEEN = words("entre")
OR_WORDS = words("o y")
AND_WORDS = words("y")
DURATION_BEFORE = words("por durante en cada dura duró duraba tarda tardó tardamos lleva llevó")
RANGE_WORDS = words("a al hasta y")
RANGE_WORDS_NEED_CUE = words("a al")
RANGE_ARTICLES = words("las la")
RANGE_NOT_AFTER = words("movimos moví pasamos cambiamos")
WEEKDAY_SPAN_WORDS = words("a al")

COUNTED_NOUNS = words("veces días dias personas minutos segundos semanas meses años anos intentos usuarios "
                      "clientes tickets pruebas euros cosas opciones")
DURATION_NOUNS = words("de viaje vuelo turno horas")
NOT_CLOCK_BEFORE = words("tardó tarda tardamos duró dura llevó lleva duración marcador resultado")
HOUR_WORDS = words("horas hora hs")
# "las tres en punto": o'clock.
OCLOCK_WORDS = frozenset({"en punto"})
NOON_WORDS = frozenset({"mediodía", "mediodia", "medio día", "medio dia"})
# "medio día libre" is half a day: written apart, noon needs a word before it that points at it.
NOON_APART_AFTER = words("al a el las hasta desde del antes después es")
MIDNIGHT_WORDS = words("medianoche")

_UNITS = {"uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8, "nueve": 9}
_TENS = {"treinta": 30, "cuarenta": 40, "cincuenta": 50}
NUMBERS = {
    "una": 1, "un": 1, **_UNITS, "diez": 10, "once": 11, "doce": 12, "trece": 13, "catorce": 14, "quince": 15,
    "dieciséis": 16, "dieciseis": 16, "diecisiete": 17, "dieciocho": 18, "diecinueve": 19, "veinte": 20,
    "veintiuno": 21, "veintiún": 21, "veintidós": 22, "veintidos": 22, "veintitrés": 23, "veintitres": 23,
    "veinticuatro": 24, "veinticinco": 25, "veintiséis": 26, "veintiseis": 26, "veintisiete": 27,
    "veintiocho": 28, "veintinueve": 29, **_TENS, **compounds(_TENS, _UNITS, "{t} y {u}"),
}
QUARTER_WORDS = {"cuarto": 15}
WORD_HOUR_FOLLOWERS = words("""
o y entonces ok vale va hoy mañana en está es te nos me si porque estoy estaré estamos voy vamos
paso pasamos llego llegamos empieza empezamos arranca arrancamos quedamos hablamos hay tengo
tenemos puedo podemos mejor como yo comemos comemos salgo salimos entro entramos termino terminamos
acabo acabamos abre cierra el la los
""")
CLOCK_PHRASES = (
    ("{h} y media", "h:30", "cue"),
    ("{h} y cuarto", "h:15", "cue"),
    ("{h} menos cuarto", "h-1:45", "cue"),
    ("{h} menos {m5}", "h-1:60-m", "cue"),
    ("{h} y {m}", "h:m", "cue"),
    ("{h} {mm}", "h:m", "cue"),  # "las siete treinta"
    ("{m5} minutos? para la|las {h}", "h-1:60-m", "strong"),  # "cuarto para las cinco" = 4:45
    ("{noon} y media", "h:30", "strong"),
)

DAY_OFFSETS = {"hoy": 0, "mañana": 1, "manana": 1, "ayer": -1}  # "manana": typed without the tilde
DAY_PHRASES = {"pasado mañana": 2, "esta noche": 0, "esta tarde": 0, "esta mañana": 0}
NOT_DAY_BEFORE = {"mañana": words("la esta por de en"), "manana": words("la esta por de en")}
WEEKDAYS = {"lunes": 0, "martes": 1, "miércoles": 2, "miercoles": 2, "jueves": 3, "viernes": 4,
            "sábado": 5, "sabado": 5, "domingo": 6}
NEXT_WORDS = words("próximo próxima proximo proxima")
NEXT_AFTER_WORDS = ("que viene", "próximo", "proximo")
MONTHS = {}
for _n, _names in enumerate(("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
                             "septiembre setiembre", "octubre", "noviembre", "diciembre"), start=1):
    MONTHS.update({name: _n for name in _names.split()})
MONTH_DAY_LINKS = words("de")

DAY_PARTS = {"de la mañana": "am", "por la mañana": "am", "en la mañana": "am", "esta mañana": "am",
             "de la madrugada": "am", "de madrugada": "am", "de la tarde": "pm", "por la tarde": "pm",
             "en la tarde": "pm", "esta tarde": "pm", "del mediodía": "pm", "de la noche": "evening",
             "esta noche": "evening", "por la noche": "evening", "en la noche": "evening"}
GREETINGS = ("buenos días", "buenos dias", "buenas tardes", "buenas noches")
DAY_AFTER_DE = words("mañana noche madrugada")
ZONE_PHRASES = {"hora de madrid": "Europe/Madrid", "hora peninsular": "Europe/Madrid",
                "hora de españa": "Europe/Madrid", "hora española": "Europe/Madrid",
                "hora de méxico": "America/Mexico_City", "hora de mexico": "America/Mexico_City",
                "hora de argentina": "America/Argentina/Buenos_Aires",
                "hora de buenos aires": "America/Argentina/Buenos_Aires",
                "hora de colombia": "America/Bogota", "hora de bogotá": "America/Bogota",
                "hora de chile": "America/Santiago", "hora de lima": "America/Lima", "hora de perú": "America/Lima"}
OF_WORDS = ("de", "del")
OF_ARTICLES = words("la el")
