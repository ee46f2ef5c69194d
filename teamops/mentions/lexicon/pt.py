"""Portuguese (Brazil and Portugal). Field meanings: see en.py. "às três" is a time ("às" is "at
the [hours]"); "as três" without the accent is often just "the three", so it counts only with more
(a day part, "e meia", "horas"); "quinze para as cinco" = 4:45; "quinta" is Thursday only after
"na/nesta/próxima…" or before a time, since it is also "fifth"."""

from teamops.mentions.lexicon import compounds, words

CUES_SINGLE = words("às à até pelas")  # "à uma" is one o'clock
CUE_PAIRS = {"até as": "single", "até às": "single", "ate as": "single", "volta das": "single",
             "partir das": "single", "desde as": "range", "desde às": "range", "lá pelas": "single",
             "entre as": "between", "entre os": "between"}
CUES_WEAK = words("as")
CUES_RANGE = words("das de")
CUES_BETWEEN = words("entre")
OR_WORDS = words("ou e")
AND_WORDS = words("e")
DURATION_BEFORE = words("por durante em cada dura durou demora demorou leva levou")
RANGE_WORDS = words("às as até ate a e")
RANGE_WORDS_NEED_CUE = words("a as")
RANGE_ARTICLES = words("os as")
RANGE_NOT_AFTER = words("mudamos mudei passamos")

COUNTED_NOUNS = words("vezes pessoas minutos segundos semanas anos dias meses tentativas tentativa usuários "
                      "usuarios clientes pedidos tickets testes reais opções opcoes")
DURATION_NOUNS = words("horas viagem voo")
NOT_CLOCK_BEFORE = words("levou leva demorou demora durou dura duração placar resultado")
HOUR_WORDS = words("horas hora hs")
OCLOCK_WORDS = frozenset({"em ponto"})
NOON_WORDS = frozenset({"meio-dia", "meio dia"})
# "meio dia de trabalho" is half a day: written apart, noon needs a word before it that points at it.
NOON_APART_AFTER = words("ao a à às até desde pelo por depois antes o é")
MIDNIGHT_WORDS = frozenset({"meia-noite", "meia noite"})

_UNITS = {"um": 1, "dois": 2, "três": 3, "tres": 3, "quatro": 4, "cinco": 5, "seis": 6, "sete": 7, "oito": 8,
          "nove": 9}
_TENS = {"vinte": 20, "trinta": 30, "quarenta": 40, "cinquenta": 50}
NUMBERS = {
    "uma": 1, "duas": 2, **_UNITS, "dez": 10, "onze": 11, "doze": 12, "treze": 13, "catorze": 14,
    "quatorze": 14, "quinze": 15, "dezesseis": 16, "dezasseis": 16, "dezessete": 17, "dezassete": 17,
    "dezoito": 18, "dezenove": 19, "dezanove": 19, **_TENS, **compounds(_TENS, _UNITS, "{t} e {u}"),
    **compounds(_TENS, {"uma": 1, "duas": 2}, "{t} e {u}"),
}
QUARTER_WORDS = {"quarto": 15, "um quarto": 15}
WORD_HOUR_FOLLOWERS = words("""
ou e então entao ok blz beleza pode hoje amanhã amanha na no em combinado eu nós a gente vou
vamos tô to estou estarei chego chegamos começa começamos sobe subimos tem tenho temos posso
podemos melhor fechado te me se lhe a o almoçamos almoço saio saímos entro entramos
""")
CLOCK_PHRASES = (
    ("{h} e meia", "h:30", "cue"),
    ("{h} e um quarto", "h:15", "cue"),
    ("{h} menos um quarto", "h-1:45", "cue"),
    ("{h} menos {m5}", "h-1:60-m", "cue"),
    ("{h} horas? e {m} minutos?", "h:m", "cue"),
    ("{h} e {m}", "h:m", "cue"),
    ("{m5} minutos? para|pra a|as|o {h}", "h-1:60-m", "strong"),  # "quinze para as cinco" = 4:45
    ("{m5} minutos? pras {h}", "h-1:60-m", "strong"),
    ("{noon} e meia", "h:30", "strong"),
)

DAY_OFFSETS = {"hoje": 0, "amanhã": 1, "amanha": 1, "ontem": -1}
DAY_PHRASES = {"depois de amanhã": 2, "esta noite": 0, "hoje à noite": 0, "hoje de manhã": 0, "hoje à tarde": 0}
WEEKDAYS = {"segunda-feira": 0, "terça": 1, "terça-feira": 1, "terca": 1, "terca-feira": 1,
            "quarta-feira": 2, "quinta-feira": 3, "sexta": 4, "sexta-feira": 4, "sábado": 5, "sabado": 5,
            "domingo": 6, "segunda": 0, "quarta": 2, "quinta": 3}
# Also ordinals ("a segunda vez", "quinta edição"): a weekday only after these or right before a time.
WEEKDAYS_NEED_LEAD = words("segunda quarta quinta")
WEEKDAY_LEADS = words("na nesta próxima proxima até ate de desde pra para esta essa dessa")
NEXT_WORDS = words("próxima próximo proxima proximo")
NEXT_AFTER_WORDS = ("que vem",)
MONTHS = {}
for _n, _names in enumerate(("janeiro", "fevereiro", "março marco", "abril", "maio", "junho", "julho",
                             "agosto", "setembro", "outubro", "novembro", "dezembro"), start=1):
    MONTHS.update({name: _n for name in _names.split()})
MONTH_DAY_LINKS = words("de")

DAY_PARTS = {"da manhã": "am", "de manhã": "am", "pela manhã": "am", "da manha": "am", "de manha": "am",
             "de madrugada": "am", "da madrugada": "am", "da tarde": "pm", "à tarde": "pm", "de tarde": "pm",
             "pela tarde": "pm", "da noite": "evening", "à noite": "evening", "de noite": "evening",
             "esta noite": "evening", "hoje à noite": "evening"}
GREETINGS = ("bom dia", "boa tarde", "boa noite")
DAY_AFTER_DE = words("manhã manha tarde noite madrugada")
ZONE_PHRASES = {"horário de brasília": "America/Sao_Paulo", "horario de brasilia": "America/Sao_Paulo",
                "horário de brasilia": "America/Sao_Paulo", "hora de brasília": "America/Sao_Paulo",
                "hora de brasilia": "America/Sao_Paulo", "hora de lisboa": "Europe/Lisbon",
                "hora de portugal": "Europe/Lisbon"}
OF_WORDS = ("de", "da", "do")
OF_ARTICLES = words("a o")
