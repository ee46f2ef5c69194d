"""The words the time-mention engine knows: zone abbreviations and how their ambiguity is settled,
city hints, day words and day parts in six languages, and the nouns that make a number a count.

Data only; teamops.mentions compiles it into regexes once, at import.
"""

from __future__ import annotations

# ---------------------------------------------------------------------------------------------
# Zone abbreviations.
#
# An abbreviation names a REGION, never a fixed offset: "3pm PST" in July is Los Angeles wall
# time (UTC-7), exactly like "3pm PT". Each entry is a list of meanings; a meaning is
# (zone returned by default, zones of a chat that select this meaning).
#
# The ambiguity rule (resolve_zone and every zone written in a message follow it):
#   1. if one of the chat's zones is listed under a meaning, that chat zone is the answer
#      (meanings in table order, chat zones in the chat's order) -- "3pm CST" in a chat with
#      Asia/Shanghai members is China time, "IST" in a chat with Europe/Dublin is Irish time;
#   2. otherwise the first meaning, the most common one for teams writing in English:
#      CST -> US Central, IST -> India, BST -> British Summer Time, AST -> Atlantic,
#      MST -> US Mountain (Denver rules; Arizona only when the chat uses Phoenix),
#      PST -> US Pacific (Philippines only when the chat uses Manila), SST -> Singapore,
#      GST -> Gulf (Dubai).
# GMT, UT, Z and UTC all mean UTC (issue 3: "GMT is UTC"), never London.
# ---------------------------------------------------------------------------------------------

_US_EAST = ("America/New_York", "America/Toronto", "America/Detroit", "America/Montreal",
            "America/Indiana/Indianapolis", "America/Kentucky/Louisville", "US/Eastern")
_US_CENTRAL = ("America/Chicago", "America/Winnipeg", "America/Mexico_City", "America/Regina",
               "America/Indiana/Knox", "America/Menominee", "US/Central")
_US_MOUNTAIN = ("America/Denver", "America/Edmonton", "America/Boise", "US/Mountain")
_US_PACIFIC = ("America/Los_Angeles", "America/Vancouver", "America/Tijuana", "US/Pacific")
_CHINA = ("Asia/Shanghai", "Asia/Chongqing", "Asia/Harbin", "Asia/Taipei", "Asia/Macau",
          "Asia/Hong_Kong", "PRC")
_INDIA = ("Asia/Kolkata", "Asia/Calcutta", "Asia/Colombo")
_UK = ("Europe/London", "Europe/Belfast", "Europe/Guernsey", "Europe/Jersey", "Europe/Isle_of_Man",
       "GB")
_CET = ("Europe/Berlin", "Europe/Paris", "Europe/Amsterdam", "Europe/Brussels", "Europe/Madrid",
        "Europe/Rome", "Europe/Vienna", "Europe/Zurich", "Europe/Prague", "Europe/Warsaw",
        "Europe/Stockholm", "Europe/Oslo", "Europe/Copenhagen", "Europe/Budapest",
        "Europe/Belgrade", "Europe/Zagreb", "Europe/Ljubljana", "Europe/Bratislava",
        "Europe/Luxembourg", "Europe/Monaco", "Europe/Malta", "Europe/Andorra", "Europe/Tirane",
        "Europe/Sarajevo", "Europe/Skopje", "Europe/Podgorica", "Europe/Gibraltar", "CET")
_EET = ("Europe/Helsinki", "Europe/Kyiv", "Europe/Kiev", "Europe/Athens", "Europe/Bucharest",
        "Europe/Sofia", "Europe/Riga", "Europe/Tallinn", "Europe/Vilnius", "Europe/Chisinau",
        "Asia/Nicosia", "Asia/Famagusta", "EET")
_ATLANTIC = ("America/Halifax", "America/Puerto_Rico", "America/Moncton", "Atlantic/Bermuda")
_ARABIA = ("Asia/Riyadh", "Asia/Kuwait", "Asia/Baghdad", "Asia/Qatar", "Asia/Bahrain", "Asia/Aden")

ABBREVIATIONS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "UTC": (("UTC", ()),), "GMT": (("UTC", ()),), "UT": (("UTC", ()),), "Z": (("UTC", ()),),
    "ZULU": (("UTC", ()),),
    "PT": (("America/Los_Angeles", _US_PACIFIC),),
    "PST": (("America/Los_Angeles", _US_PACIFIC), ("Asia/Manila", ("Asia/Manila",))),
    "PDT": (("America/Los_Angeles", _US_PACIFIC),),
    "MT": (("America/Denver", _US_MOUNTAIN),),
    "MST": (("America/Denver", _US_MOUNTAIN), ("America/Phoenix", ("America/Phoenix", "US/Arizona"))),
    "MDT": (("America/Denver", _US_MOUNTAIN),),
    "CT": (("America/Chicago", _US_CENTRAL),),
    "CST": (("America/Chicago", _US_CENTRAL), ("Asia/Shanghai", _CHINA), ("America/Havana", ("America/Havana", "Cuba"))),
    "CDT": (("America/Chicago", _US_CENTRAL), ("America/Havana", ("America/Havana", "Cuba"))),
    "ET": (("America/New_York", _US_EAST),),
    "EST": (("America/New_York", _US_EAST),),
    "EDT": (("America/New_York", _US_EAST),),
    "AKST": (("America/Anchorage", ()),), "AKDT": (("America/Anchorage", ()),),
    "HST": (("Pacific/Honolulu", ()),),
    "AST": (("America/Halifax", _ATLANTIC), ("Asia/Riyadh", _ARABIA)),
    "ADT": (("America/Halifax", _ATLANTIC),),
    "NST": (("America/St_Johns", ()),), "NDT": (("America/St_Johns", ()),),
    "BRT": (("America/Sao_Paulo", ()),), "ART": (("America/Argentina/Buenos_Aires", ()),),
    "CLT": (("America/Santiago", ()),), "COT": (("America/Bogota", ()),),
    "PET": (("America/Lima", ()),), "VET": (("America/Caracas", ()),),
    "WET": (("Europe/Lisbon", ("Europe/Lisbon", "Atlantic/Madeira", "Atlantic/Canary")),),
    "WEST": (("Europe/Lisbon", ("Europe/Lisbon", "Atlantic/Madeira", "Atlantic/Canary")),),
    "BST": (("Europe/London", _UK), ("Asia/Dhaka", ("Asia/Dhaka", "Asia/Dacca"))),
    "IST": (("Asia/Kolkata", _INDIA), ("Europe/Dublin", ("Europe/Dublin", "Eire")),
            ("Asia/Jerusalem", ("Asia/Jerusalem", "Asia/Tel_Aviv", "Israel"))),
    "CET": (("Europe/Berlin", _CET),), "CEST": (("Europe/Berlin", _CET),),
    "MET": (("Europe/Berlin", _CET),), "MEZ": (("Europe/Berlin", _CET),),
    "MESZ": (("Europe/Berlin", _CET),),
    "EET": (("Europe/Helsinki", _EET),), "EEST": (("Europe/Helsinki", _EET),),
    "MSK": (("Europe/Moscow", ("Europe/Moscow", "Europe/Simferopol", "Europe/Minsk")),),
    "МСК": (("Europe/Moscow", ("Europe/Moscow", "Europe/Simferopol", "Europe/Minsk")),),
    "TRT": (("Europe/Istanbul", ()),), "GET": (("Asia/Tbilisi", ()),),
    "AMT": (("Asia/Yerevan", ()),), "AZT": (("Asia/Baku", ()),),
    "SAMT": (("Europe/Samara", ()),), "YEKT": (("Asia/Yekaterinburg", ()),),
    "OMST": (("Asia/Omsk", ()),), "NOVT": (("Asia/Novosibirsk", ()),),
    "KRAT": (("Asia/Krasnoyarsk", ()),), "IRKT": (("Asia/Irkutsk", ()),),
    "YAKT": (("Asia/Yakutsk", ()),), "VLAT": (("Asia/Vladivostok", ()),),
    "GST": (("Asia/Dubai", ("Asia/Dubai", "Asia/Muscat")),),
    "IRST": (("Asia/Tehran", ()),), "PKT": (("Asia/Karachi", ()),), "NPT": (("Asia/Kathmandu", ()),),
    "UZT": (("Asia/Tashkent", ()),), "ALMT": (("Asia/Almaty", ()),),
    "ICT": (("Asia/Bangkok", ("Asia/Bangkok", "Asia/Ho_Chi_Minh", "Asia/Saigon", "Asia/Phnom_Penh")),),
    "WIB": (("Asia/Jakarta", ()),), "PHT": (("Asia/Manila", ()),),
    "SGT": (("Asia/Singapore", ()),), "SST": (("Asia/Singapore", ()),), "MYT": (("Asia/Kuala_Lumpur", ()),),
    "HKT": (("Asia/Hong_Kong", ()),), "JST": (("Asia/Tokyo", ()),), "KST": (("Asia/Seoul", ()),),
    "AWST": (("Australia/Perth", ()),),
    "ACST": (("Australia/Adelaide", ()),), "ACDT": (("Australia/Adelaide", ()),),
    "AEST": (("Australia/Sydney", ("Australia/Sydney", "Australia/Melbourne", "Australia/Canberra", "Australia/Hobart")),),
    "AEDT": (("Australia/Sydney", ("Australia/Sydney", "Australia/Melbourne", "Australia/Canberra", "Australia/Hobart")),),
    "AET": (("Australia/Sydney", ("Australia/Sydney", "Australia/Melbourne", "Australia/Canberra", "Australia/Hobart")),),
    "NZST": (("Pacific/Auckland", ()),), "NZDT": (("Pacific/Auckland", ()),), "NZT": (("Pacific/Auckland", ()),),
    "WAT": (("Africa/Lagos", ()),), "CAT": (("Africa/Maputo", ()),), "EAT": (("Africa/Nairobi", ()),),
    "SAST": (("Africa/Johannesburg", ()),),
}

# Abbreviations also accepted in lower case right after a time ("3pm pst", "15:00 utc", "10 мск").
# The rest are ordinary words in some language we read (et, est, ist, art, cat, pet, get, at...)
# and count only in capitals -- or, for the English ones, in lower case after am/pm (see below).
LOWERCASE_OK = frozenset(
    "utc gmt pst pdt cst cdt mst mdt edt akst hst cet cest eet eest msk мск bst jst kst sgt hkt "
    "aest aedt awst nzst nzdt mez mesz wib pkt".split()
)
# Lower case accepted only after an explicit am/pm ("3pm est"): no French/German 24-hour time
# carries am/pm, so "à 15h est" (French "is") and "15 Uhr ist" (German "is") stay words.
LOWERCASE_AFTER_AMPM = frozenset("et est pt ct mt ist ast".split())

# ---------------------------------------------------------------------------------------------
# City and region hints written after a time: "3pm London time", "9am NYC", "10:00 по Москве".
# Keys are lower case; two-letter codes (NY, LA, SF, DC) only count in capitals.
# ---------------------------------------------------------------------------------------------
CITY_HINTS: dict[str, str] = {
    "london": "Europe/London", "uk": "Europe/London", "british": "Europe/London",
    "dublin": "Europe/Dublin", "lisbon": "Europe/Lisbon", "portugal": "Europe/Lisbon",
    "madrid": "Europe/Madrid", "barcelona": "Europe/Madrid", "spain": "Europe/Madrid",
    "paris": "Europe/Paris", "france": "Europe/Paris", "berlin": "Europe/Berlin",
    "germany": "Europe/Berlin", "german": "Europe/Berlin", "munich": "Europe/Berlin",
    "amsterdam": "Europe/Amsterdam", "brussels": "Europe/Brussels", "zurich": "Europe/Zurich",
    "vienna": "Europe/Vienna", "rome": "Europe/Rome", "milan": "Europe/Rome",
    "stockholm": "Europe/Stockholm", "oslo": "Europe/Oslo", "copenhagen": "Europe/Copenhagen",
    "helsinki": "Europe/Helsinki", "warsaw": "Europe/Warsaw", "prague": "Europe/Prague",
    "budapest": "Europe/Budapest", "belgrade": "Europe/Belgrade", "bucharest": "Europe/Bucharest",
    "sofia": "Europe/Sofia", "athens": "Europe/Athens", "istanbul": "Europe/Istanbul",
    "kyiv": "Europe/Kyiv", "kiev": "Europe/Kyiv", "kharkiv": "Europe/Kyiv", "minsk": "Europe/Minsk",
    "moscow": "Europe/Moscow", "riga": "Europe/Riga", "tallinn": "Europe/Tallinn",
    "vilnius": "Europe/Vilnius", "tbilisi": "Asia/Tbilisi", "yerevan": "Asia/Yerevan",
    "baku": "Asia/Baku", "cyprus": "Asia/Nicosia", "limassol": "Asia/Nicosia",
    "dubai": "Asia/Dubai", "tel aviv": "Asia/Jerusalem", "israel": "Asia/Jerusalem",
    "almaty": "Asia/Almaty", "tashkent": "Asia/Tashkent", "india": "Asia/Kolkata",
    "bangalore": "Asia/Kolkata", "bengaluru": "Asia/Kolkata", "mumbai": "Asia/Kolkata",
    "delhi": "Asia/Kolkata", "new delhi": "Asia/Kolkata", "singapore": "Asia/Singapore",
    "hong kong": "Asia/Hong_Kong", "shanghai": "Asia/Shanghai", "beijing": "Asia/Shanghai",
    "tokyo": "Asia/Tokyo", "japan": "Asia/Tokyo", "seoul": "Asia/Seoul", "manila": "Asia/Manila",
    "jakarta": "Asia/Jakarta", "bali": "Asia/Makassar", "bangkok": "Asia/Bangkok",
    "sydney": "Australia/Sydney", "melbourne": "Australia/Melbourne", "brisbane": "Australia/Brisbane",
    "perth": "Australia/Perth", "auckland": "Pacific/Auckland",
    "new york": "America/New_York", "nyc": "America/New_York", "boston": "America/New_York",
    "toronto": "America/Toronto", "montreal": "America/Toronto", "miami": "America/New_York",
    "atlanta": "America/New_York", "eastern": "America/New_York", "chicago": "America/Chicago",
    "austin": "America/Chicago", "dallas": "America/Chicago", "houston": "America/Chicago",
    "central": "America/Chicago", "denver": "America/Denver", "mountain": "America/Denver",
    "phoenix": "America/Phoenix", "san francisco": "America/Los_Angeles",
    "los angeles": "America/Los_Angeles", "seattle": "America/Los_Angeles",
    "vancouver": "America/Vancouver", "pacific": "America/Los_Angeles",
    "mexico city": "America/Mexico_City", "sao paulo": "America/Sao_Paulo",
    "são paulo": "America/Sao_Paulo", "brasilia": "America/Sao_Paulo", "brasília": "America/Sao_Paulo",
    "buenos aires": "America/Argentina/Buenos_Aires", "bogota": "America/Bogota",
    "lima": "America/Lima", "santiago": "America/Santiago", "cairo": "Africa/Cairo",
    "lagos": "Africa/Lagos", "nairobi": "Africa/Nairobi", "cape town": "Africa/Johannesburg",
    "johannesburg": "Africa/Johannesburg",
}
CITY_CODES: dict[str, str] = {"NY": "America/New_York", "LA": "America/Los_Angeles",
                              "SF": "America/Los_Angeles", "DC": "America/New_York"}
# Region words that only name a zone when followed by "time" ("3pm Eastern" is common enough to
# allow, but "central" and "mountain" alone are too often ordinary words).
# ...except the US region words capitalised right after a time: "10am Central", "9am Mountain".
CITY_CAPITALISED_OK = frozenset({"central", "mountain"})
CITY_NEEDS_TIME = frozenset({"central", "mountain", "german", "british", "uk", "india", "japan",
                             "israel", "spain", "france", "germany", "portugal"})

# Russian "по <city>" (dative) and "мск": "в 15:00 по Москве", "в 10 по мск".
RU_CITY_HINTS: dict[str, str] = {
    "москве": "Europe/Moscow", "мск": "Europe/Moscow", "питеру": "Europe/Moscow",
    "спб": "Europe/Moscow", "киеву": "Europe/Kyiv", "минску": "Europe/Minsk",
    "калининграду": "Europe/Kaliningrad", "самаре": "Europe/Samara",
    "екатеринбургу": "Asia/Yekaterinburg", "екб": "Asia/Yekaterinburg", "омску": "Asia/Omsk",
    "новосибирску": "Asia/Novosibirsk", "красноярску": "Asia/Krasnoyarsk",
    "иркутску": "Asia/Irkutsk", "владивостоку": "Asia/Vladivostok",
    "хабаровску": "Asia/Vladivostok", "алматы": "Asia/Almaty", "астане": "Asia/Almaty",
    "ташкенту": "Asia/Tashkent", "тбилиси": "Asia/Tbilisi", "еревану": "Asia/Yerevan",
    "баку": "Asia/Baku", "лондону": "Europe/London", "берлину": "Europe/Berlin",
    "варшаве": "Europe/Warsaw", "праге": "Europe/Prague", "лиссабону": "Europe/Lisbon",
    "белграду": "Europe/Belgrade", "стамбулу": "Europe/Istanbul", "дубаю": "Asia/Dubai",
    "гринвичу": "UTC", "utc": "UTC", "gmt": "UTC", "киевскому": "Europe/Kyiv",
    "московскому": "Europe/Moscow",
}
# "heure de Paris", "hora de Madrid", "horário de Brasília", "deutscher Zeit".
ROMANCE_ZONE_PHRASES: dict[str, str] = {
    "heure de paris": "Europe/Paris", "heure française": "Europe/Paris",
    "heure de france": "Europe/Paris", "hora de madrid": "Europe/Madrid",
    "hora peninsular": "Europe/Madrid", "hora de españa": "Europe/Madrid",
    "horário de brasília": "America/Sao_Paulo", "horario de brasilia": "America/Sao_Paulo",
    "horário de brasilia": "America/Sao_Paulo", "hora de brasília": "America/Sao_Paulo",
    "hora de lisboa": "Europe/Lisbon", "deutscher zeit": "Europe/Berlin",
    "hora de méxico": "America/Mexico_City", "hora de argentina": "America/Argentina/Buenos_Aires",
}

# ---------------------------------------------------------------------------------------------
# Days. Day offsets from the current local date; weekdays Monday=0.
# ---------------------------------------------------------------------------------------------
DAY_OFFSETS: dict[str, int] = {
    "today": 0, "tonight": 0, "tonite": 0, "сегодня": 0, "heute": 0, "aujourd'hui": 0,
    "aujourd’hui": 0, "hoy": 0, "hoje": 0,
    "tomorrow": 1, "tmrw": 1, "tmr": 1, "tmw": 1, "tomorow": 1, "tommorow": 1, "tommorrow": 1,
    "2morrow": 1, "2moro": 1, "завтра": 1, "morgen": 1, "demain": 1, "mañana": 1, "amanhã": 1,
    "amanha": 1,
    "послезавтра": 2, "übermorgen": 2, "après-demain": 2,
    "yesterday": -1, "вчера": -1, "gestern": -1, "ayer": -1, "ontem": -1,
}
# Multi-word day phrases (normalised to single spaces, lower case).
DAY_PHRASES: dict[str, int] = {
    "day after tomorrow": 2, "the day after tomorrow": 2, "pasado mañana": 2,
    "depois de amanhã": 2, "this morning": 0, "this afternoon": 0, "this evening": 0,
    "ce soir": 0, "cet après-midi": 0, "ce matin": 0, "esta noche": 0, "esta tarde": 0,
    "esta noite": 0, "heute abend": 0, "heute nachmittag": 0,
}

WEEKDAYS: dict[str, int] = {}
for _index, _names in enumerate((
    "monday понедельник понедельника понедельнику montag montags lundi lunes segunda-feira",
    "tuesday вторник вторника вторнику dienstag dienstags mardi martes terça terça-feira terca terca-feira",
    "wednesday среда среду среды mittwoch mittwochs mercredi miércoles miercoles quarta-feira",
    "thursday четверг четверга четвергу donnerstag donnerstags jeudi jueves quinta-feira",
    "friday пятница пятницу пятницы freitag freitags vendredi viernes sexta sexta-feira",
    "saturday суббота субботу субботы samstag samstags sonnabend samedi sábado sabado",
    "sunday воскресенье воскресенья sonntag sonntags dimanche domingo",
)):
    for _name in _names.split():
        WEEKDAYS[_name] = _index
# Short forms count only right before a time or punctuation ("Mon 10am", "mon 10am", "Пт 18:00"),
# never before a word ("mon équipe" is French for "my team"); "sat", "sun", "wed" (English words)
# and "вс", "ср" only capitalised.
WEEKDAY_ABBREVIATIONS: dict[str, int] = {
    "mon": 0, "tue": 1, "tues": 1, "wed": 2, "thu": 3, "thur": 3, "thurs": 3, "fri": 4, "sat": 5,
    "sun": 6, "пн": 0, "вт": 1, "ср": 2, "чт": 3, "пт": 4, "сб": 5, "вс": 6,
}

MONTHS: dict[str, int] = {}
for _index, _names in enumerate((
    "january jan января январь januar janvier enero janeiro",
    "february feb февраля февраль februar février fevrier febrero fevereiro",
    "march mar марта март märz maerz mars marzo março marco",
    "april apr апреля апрель avril abril",
    "may мая май mai mayo maio",
    "june jun июня июнь juni juin junio junho",
    "july jul июля июль juli juillet julio julho",
    "august aug августа август août aout agosto",
    "september sep sept сентября сентябрь septembre septiembre setembro",
    "october oct октября октябрь oktober octobre octubre outubro",
    "november nov ноября ноябрь novembre noviembre novembro",
    "december dec декабря декабрь dezember décembre decembre diciembre dezembro",
), start=1):
    for _name in _names.split():
        MONTHS[_name] = _index
# Month names that are also common words: count only when capitalised ("May 5", not "may 5").
MONTHS_NEED_CAPITAL = frozenset({"may", "mar", "march", "mars", "jun", "aug", "sep"})

# ---------------------------------------------------------------------------------------------
# Day parts: turn a 1-12 hour into morning or afternoon. Kinds: am, pm, evening, night.
# ---------------------------------------------------------------------------------------------
DAY_PARTS: dict[str, str] = {
    "morning": "am", "in the morning": "am", "this morning": "am", "tomorrow morning": "am",
    "утра": "am", "утром": "am", "morgens": "am", "früh": "am", "vormittag": "am",
    "vormittags": "am", "am vormittag": "am", "am morgen": "am", "du matin": "am", "matin": "am",
    "de la mañana": "am", "por la mañana": "am", "da manhã": "am", "de manhã": "am",
    "pela manhã": "am", "de madrugada": "am", "de la madrugada": "am", "da madrugada": "am",
    "afternoon": "pm", "in the afternoon": "pm", "this afternoon": "pm", "arvo": "pm",
    "дня": "pm", "днём": "pm", "днем": "pm", "nachmittags": "pm", "nachmittag": "pm",
    "am nachmittag": "pm", "de l'après-midi": "pm", "après-midi": "pm", "de la tarde": "pm",
    "por la tarde": "pm", "da tarde": "pm", "à tarde": "pm", "de tarde": "pm",
    "evening": "evening", "in the evening": "evening", "this evening": "evening",
    "tonight": "evening", "tonite": "evening", "вечера": "evening", "вечером": "evening",
    "abends": "evening", "abend": "evening", "am abend": "evening", "du soir": "evening",
    "ce soir": "evening", "soir": "evening", "de la noche": "evening", "esta noche": "evening",
    "por la noche": "evening", "da noite": "evening", "à noite": "evening", "de noite": "evening",
    "esta noite": "evening",
    "night": "night", "at night": "night", "ночи": "night", "ночью": "night", "nachts": "night",
    "de la nuit": "night", "la nuit": "night",
}
# Day parts that make a bare number a time on their own ("7 вечера", "3 in the afternoon").
# "дня" is left out: "3 дня" is "3 days" unless a cue ("в 3 дня") says otherwise.
DAY_PART_CUES = frozenset(DAY_PARTS) - {"дня", "morning", "evening", "night", "afternoon",
                                         "matin", "soir", "abend", "nachmittag", "vormittag",
                                         "früh", "днём", "днем", "утром", "вечером", "ночью"}

# ---------------------------------------------------------------------------------------------
# Counted nouns: a bare number followed by one of these is a count, never a time
# ("at 3 retries", "в 3 раза", "around 10 people"). Compared in lower case.
# ---------------------------------------------------------------------------------------------
COUNTED_NOUNS = frozenset("""
logins sessions connections calls messages alerts events jobs builds deploys deployments runs
customers clients accounts orders tenants regions services incidents chats channels
times time retries retry attempts attempt tries try people person persons users user members
member folks guys items item days day weeks week months month years year yrs yr hours hour hrs
hr minutes minute mins min seconds second secs sec ms pages page tickets ticket issues issue
bugs bug prs pr points point pts tasks task files file lines line commits commit servers server
nodes node pods pod replicas replica instances instance gb mb kb tb gib mib k m x percent pct
dollars dollar bucks euros euro usd eur gbp rub things thing steps step rounds round levels level
games game goals goal players player teams team cores core cpus cpu threads thread requests
request rps qps errors error failures failure tests test votes vote stars star copies copy of out
more less others other tabs tab screens screen slides slide bottles beers cups coffees of kids
apples messages message emails email calls call meetings meetings sprints sprint stories story
hotfixes deploys deployments builds build jobs job workers worker degrees deg km miles mi kg
lbs rows row columns col cols records record chars characters bytes bits questions
question answers answer comments comment reviews review reviewers approvals candidates
interviews slots seats places spots rooms tables desks chairs laptops machines vms containers
clusters regions zones shards partitions versions releases rc beta alpha patches patch
раз раза разa человек человека людей штук штуки шт дней дня недель недели месяцев месяца лет
года год минут минуты минуту секунд секунды процентов процента тысяч тысячи рублей рубля
задач задачи задачу тикетов тикета попыток попытки этапа этапов шагов шага итерации раундов
раунда баллов балла очков очка пунктов пункта гб мб
mal male tage tagen stunden minuten leute personen prozent wochen monate jahre
fois jours semaines mois ans années personnes minutes secondes
veces días dias personas minutos segundos semanas meses años anos
vezes pessoas minutos segundos semanas anos
""".split())

# English words before "at" that make the number a value, not a time ("stuck at 3", "capped at
# 5", "look at 3"). "is at 10" stays a time: "the standup is at 10" is the common case.
VALUE_VERBS_BEFORE_AT = frozenset("""
look looks looking looked stuck capped peaked priced valued limit limited set max min maxed
stays stay stayed sits sitting sat remains remain remained hovering hovers plateaued
we're were currently still counter count coverage score level version v
""".split())

# Words between a number and a counted noun that keep it a count ("5 consecutive failures").
COUNT_ADJECTIVES = frozenset("""
consecutive failed successful new more extra other different separate parallel concurrent
straight total open closed active idle free unique distinct additional последовательных новых
""".split())

# Words right before an H:MM that make it a duration, a score or a verse, not a clock time.
NOT_CLOCK_BEFORE = frozenset("""
took takes lasted lasts duration length runtime elapsed pace score scored won lost beat
final result ratio aspect tied draw record skip jump rewind timestamp
john matthew mark luke acts romans genesis exodus leviticus numbers deuteronomy psalm psalms
proverbs isaiah jeremiah ezekiel daniel revelation revelations corinthians galatians ephesians
philippians colossians thessalonians timothy hebrews james peter jude chapter verse ch vs
счёт счет итог матч стих глава заняла занял заняло заняли длилось длился длилась
""".split())
# Words right after an H:MM that make it a ratio or a duration.
NOT_CLOCK_AFTER = frozenset("""
aspect ratio ratios display screen monitor format scale split odds hours hrs hr h min mins
minutes long duration lead win victory record pace per km kms mi miles
""".split())
# Words right after "15h"/"2h" that make it a duration ("a 15h flight", "16h de vol").
DURATION_NOUNS = frozenset("""
flight flights drive drives shift shifts trip ride journey day days week workday work coding sleep
delay delays late support sla battery fast hike travel layover window turnaround straight nonstop
long of de d du vol route trajet voyage travail sommeil retard décalage von stunden fahrt flug
schicht de viaje vuelo turno horas viagem voo
""".split())
# Words before a dotted "15.30" that make it a version or a number.
NOT_CLOCK_BEFORE_DOTTED = frozenset("""
version ver v python node nodejs release upgrade update bump build api sdk lib ios android
kotlin java go rust chrome firefox django rails ruby php perl swift price cost costs
rate score
""".split())
