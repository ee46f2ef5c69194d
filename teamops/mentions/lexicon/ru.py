"""Russian. Field meanings: see en.py. Case forms matter: hours after "в" are nominative
("в три"), after "с/до/после/около" genitive ("с трёх до пяти"), after "к" dative ("к трём");
"half past" is said toward the next hour with its genitive ordinal ("половина девятого" = 8:30)."""

from teamops.mentions.lexicon import compounds, words

CUES_SINGLE = words("в во к около после")
CUES_RANGE = words("с со от")
CUES_BETWEEN = words("между")
# "в 15-00": dash minutes, only after these and only :00/:15/:30/:45.
CUES_DASH_MINUTES = words("в во к с со от до после около")
OR_WORDS = words("или и")
AND_WORDS = words("и")
MORE_WORDS = words("больше меньше")
DURATION_BEFORE = words("за через на длится длилось занимает заняло")

RANGE_WORDS = words("до и")
RANGE_NOT_AFTER = words("перенесли перенёс перенес перенести переносим сдвинули сдвинул сдвинуть")
WEEKDAY_SPAN_WORDS = words("до по")

COUNTED_NOUNS = words("""
раз раза человек человека людей штук штуки шт дней дня недель недели месяцев месяца лет
года год минут минуты минуту секунд секунды процентов процента тысяч тысячи рублей рубля
задач задачи задачу тикетов тикета попыток попытки этапа этапов шагов шага итерации раундов
раунда баллов балла очков очка пунктов пункта гб мб счёта счета
""")
# Any word starting with these after "в N" is a count or a place ("в 3 раза", "в 5 местах").
COUNTED_STEMS = ("раз", "клик", "поток", "ряд", "слой", "уров", "строк", "символ", "байт", "бит", "цикл",
                 "круг", "этаж", "класс", "человек", "люд", "штук", "шт", "дн", "недел", "месяц", "год",
                 "лет", "минут", "секунд", "процент", "тысяч", "рубл", "доллар", "евро", "задач",
                 "тикет", "попыт", "этап", "шаг", "итерац", "раунд", "балл", "очк", "пункт", "сервер",
                 "подов", "поды", "подах", "нод", "гб", "мб", "кб", "стран", "вопрос", "ответ", "коммит", "файл", "мест",
                 "глав", "случа", "город", "рук", "чат", "канал", "клиент", "пользовател", "счёт", "счет")
# Prepositional plurals after "в N" name places or things: "в 5 местах", "в 3 случаях".
COUNTED_ENDINGS = ("ах", "ях")
NOT_COUNTED_STEMS = ("час",)
COUNT_ADJECTIVES = words("последовательных новых")
NOT_CLOCK_BEFORE = words("счёт счет итог матч стих глава заняла занял заняло заняли длилось длился длилась "
                         "длительность задержка пинг занимает занимают длится идёт идет")

HOUR_WORDS = words("часов часа час ч ч. часам")
NOON_WORDS = words("полдень")
MIDNIGHT_WORDS = words("полночь")
# "в час дня" is one o'clock: the word "час" is the hour when a day part follows it.
ONE_OCLOCK = {"час": ("дня", "ночи")}

_UNITS = {"один": 1, "два": 2, "три": 3, "четыре": 4, "пять": 5, "шесть": 6, "семь": 7, "восемь": 8, "девять": 9}
_TENS = {"двадцать": 20, "тридцать": 30, "сорок": 40, "пятьдесят": 50}
NUMBERS = {
    **_UNITS, "десять": 10, "одиннадцать": 11, "двенадцать": 12, "тринадцать": 13, "четырнадцать": 14,
    "пятнадцать": 15, "шестнадцать": 16, "семнадцать": 17, "восемнадцать": 18, "девятнадцать": 19,
    **_TENS, **compounds(_TENS, _UNITS, "{t} {u}"),
}
# Hours in the other cases: genitive after с/до/после/около, dative after к.
HOUR_FORMS = {
    "часу": 1, "двух": 2, "трёх": 3, "трех": 3, "четырёх": 4, "четырех": 4, "пяти": 5, "шести": 6,
    "семи": 7, "восьми": 8, "девяти": 9, "десяти": 10, "одиннадцати": 11, "двенадцати": 12,
    "тринадцати": 13, "четырнадцати": 14, "пятнадцати": 15, "шестнадцати": 16, "семнадцати": 17,
    "восемнадцати": 18, "девятнадцати": 19, "двадцати": 20, "двум": 2, "трём": 3, "трем": 3,
    "четырём": 4, "четырем": 4, "двадцати одного": 21, "двадцати двух": 22, "двадцати трёх": 23,
}
# Genitive ordinals: "половина девятого" (half of the ninth hour) = 8:30.
_ORDINALS = {"первого": 1, "второго": 2, "третьего": 3, "четвёртого": 4, "четвертого": 4, "пятого": 5,
             "шестого": 6, "седьмого": 7, "восьмого": 8, "девятого": 9, "десятого": 10,
             "одиннадцатого": 11, "двенадцатого": 12}
# Minutes in the genitive, after "без": "без пяти восемь" = 7:55, "без четверти пять" = 4:45.
_MINUTES_BEFORE = {"пяти": 5, "десяти": 10, "пятнадцати": 15, "двадцати": 20, "двадцати пяти": 25,
                   "четверти": 15, "двух": 2, "трёх": 3, "трех": 3, "одной": 1}
SLOTS = {"ord": _ORDINALS, "before": _MINUTES_BEFORE}
MINUTE_SLOTS = ("before",)
# "в три" is a time when nothing but these follows (or punctuation, a day word, a day part).
WORD_HOUR_FOLLOWERS = words("""
или и а но же тогда ок ок? норм подходит устроит удобно успею будет буду будем встречаемся
встретимся созвон созвонимся созваниваемся начинаем начнём начнем жду приду выйду можно сможешь
давай го по мск часов часа
я мы ты вы он она они все у меня нас будь будьте зайду подключусь подключайтесь приходи
приходите ну ладно точно норм? сегодня завтра успеешь успеете успеем свободен свободна свободны
освобожусь занят занята смогу сможем сможете
""")
CLOCK_PHRASES = (
    ("пол{ord}", "h-1:30", "strong"),  # "полвосьмого" = 7:30
    ("пол-{ord}", "h-1:30", "strong"),
    ("пол {ord}", "h-1:30", "strong"),
    ("половина|половине|половину {ord}", "h-1:30", "strong"),
    ("четверть {ord}", "h-1:15", "strong"),
    ("без {before} минут|минуты? {h}", "h-1:60-m", "strong"),
    ("{m} минут|минуты|минута {ord}", "h-1:m", "strong"),  # "десять минут девятого" = 8:10
    ("{h} час|часа|часов {mm} минут|минуты|минута?", "h:m", "cue"),
    ("{h} {mm}", "h:m", "cue"),  # "в семь тридцать"
    ("пол {h}", "h-1:30", "cue"),  # "в пол 8": digits said like the ordinal
    ("{h} ноль-ноль", "h:0", "cue"),  # "в двадцать два ноль-ноль"
    ("{h} ноль ноль", "h:0", "cue"),
)

DAY_OFFSETS = {"сегодня": 0, "завтра": 1, "послезавтра": 2, "вчера": -1}
WEEKDAYS = {}
for _n, _names in enumerate(("понедельник понедельника понедельнику", "вторник вторника вторнику",
                             "среда среду среды", "четверг четверга четвергу", "пятница пятницу пятницы",
                             "суббота субботу субботы", "воскресенье воскресенья")):
    WEEKDAYS.update({name: _n for name in _names.split()})
NEXT_WORDS = words("следующий следующую следующее следующей следующем")
WEEKDAY_ABBREVIATIONS = {"пн": 0, "вт": 1, "ср": 2, "чт": 3, "пт": 4, "сб": 5, "вс": 6}
# "вс" and "ср" are also abbreviations of other words: only capitalised.
WEEKDAYS_VERB_LIKE_ALWAYS = words("вс ср")
MONTHS = {}
for _n, _names in enumerate(("января январь", "февраля февраль", "марта март", "апреля апрель", "мая май",
                             "июня июнь", "июля июль", "августа август", "сентября сентябрь",
                             "октября октябрь", "ноября ноябрь", "декабря декабрь"), start=1):
    MONTHS.update({name: _n for name in _names.split()})

DAY_PARTS = {"утра": "am", "утром": "am", "дня": "pm", "днём": "pm", "днем": "pm", "вечера": "evening",
             "вечером": "evening", "ночи": "night", "ночью": "night"}
# "3 дня" is "3 days" unless a cue says otherwise; "утром" etc. do not follow a number.
DAY_PARTS_NOT_ALONE = words("дня днём днем утром вечером ночью")
GREETINGS = ("доброе утро", "добрый вечер", "добрый день")
PAST_NIGHT = ("прошлой ночью", "вчера ночью")

# Zones said as places, in the cases Russian puts them in after a time: "по Москве" (dative),
# "в Берлине" (prepositional), "по московскому (времени)".
_CITIES = {
    "Europe/Moscow": ("москве москве", "питеру питере", "спб спб"),
    "Europe/Kyiv": ("киеву киеве",), "Europe/Minsk": ("минску минске",),
    "Europe/Kaliningrad": ("калининграду калининграде",), "Europe/Samara": ("самаре самаре",),
    "Asia/Yekaterinburg": ("екатеринбургу екатеринбурге", "екб екб"), "Asia/Omsk": ("омску омске",),
    "Asia/Novosibirsk": ("новосибирску новосибирске",), "Asia/Krasnoyarsk": ("красноярску красноярске",),
    "Asia/Irkutsk": ("иркутску иркутске",), "Asia/Vladivostok": ("владивостоку владивостоке", "хабаровску хабаровске"),
    "Asia/Almaty": ("алматы алматы", "астане астане"), "Asia/Tashkent": ("ташкенту ташкенте",),
    "Asia/Tbilisi": ("тбилиси тбилиси",), "Asia/Yerevan": ("еревану ереване",), "Asia/Baku": ("баку баку",),
    "Europe/London": ("лондону лондоне",), "Europe/Berlin": ("берлину берлине", "мюнхену мюнхене"),
    "Europe/Warsaw": ("варшаве варшаве",), "Europe/Prague": ("праге праге",),
    "Europe/Lisbon": ("лиссабону лиссабоне",), "Europe/Belgrade": ("белграду белграде",),
    "Europe/Istanbul": ("стамбулу стамбуле",), "Asia/Dubai": ("дубаю дубае",),
    "Europe/Paris": ("парижу париже",), "Europe/Amsterdam": ("амстердаму амстердаме",),
    "Europe/Madrid": ("мадриду мадриде", "барселоне барселоне"), "Europe/Rome": ("риму риме",),
    "Europe/Vienna": ("вене вене",), "Europe/Zurich": ("цюриху цюрихе",), "Europe/Helsinki": ("хельсинки хельсинки",),
    "Europe/Riga": ("риге риге",), "Europe/Tallinn": ("таллину таллине", "таллинну таллинне"),
    "Europe/Vilnius": ("вильнюсу вильнюсе",), "Europe/Stockholm": ("стокгольму стокгольме",),
    "Europe/Dublin": ("дублину дублине",), "Asia/Nicosia": ("кипру кипре", "лимассолу лимассоле"),
    "Asia/Jerusalem": ("тель-авиву тель-авиве", "израилю израиле"), "Asia/Kolkata": ("дели дели", "индии индии"),
    "Asia/Singapore": ("сингапуру сингапуре",), "Asia/Shanghai": ("пекину пекине", "шанхаю шанхае"),
    "Asia/Tokyo": ("токио токио",), "Asia/Bangkok": ("бангкоку бангкоке",), "Asia/Makassar": ("бали бали",),
    "Australia/Sydney": ("сиднею сиднее",), "America/New_York": ("нью-йорку нью-йорке",),
    "America/Los_Angeles": ("лос-анджелесу лос-анджелесе", "сан-франциско сан-франциско"),
    "America/Chicago": ("чикаго чикаго",), "America/Toronto": ("торонто торонто",),
    "UTC": ("гринвичу гринвичу", "utc utc", "gmt gmt"),
}
CITY_HINTS_RU = {}
for _zone, _pairs in _CITIES.items():
    for _pair in _pairs:
        _dative, _prepositional = _pair.split()
        CITY_HINTS_RU["по " + _dative] = _zone
        if _prepositional not in ("спб", "екб", "utc", "gmt", "гринвичу"):
            CITY_HINTS_RU["в " + _prepositional] = _zone
for _adjective, _zone in (("московскому", "Europe/Moscow"), ("киевскому", "Europe/Kyiv"),
                          ("берлинскому", "Europe/Berlin"), ("лондонскому", "Europe/London"),
                          ("парижскому", "Europe/Paris"), ("минскому", "Europe/Minsk"),
                          ("екатеринбургскому", "Asia/Yekaterinburg"), ("новосибирскому", "Asia/Novosibirsk"),
                          ("нью-йоркскому", "America/New_York"), ("токийскому", "Asia/Tokyo"),
                          ("сиднейскому", "Australia/Sydney"), ("варшавскому", "Europe/Warsaw"),
                          ("пражскому", "Europe/Prague"), ("тбилисскому", "Asia/Tbilisi"),
                          ("бакинскому", "Asia/Baku"), ("дубайскому", "Asia/Dubai"),
                          ("ташкентскому", "Asia/Tashkent"), ("алматинскому", "Asia/Almaty"),
                          ("омскому", "Asia/Omsk"), ("красноярскому", "Asia/Krasnoyarsk"),
                          ("иркутскому", "Asia/Irkutsk"), ("владивостокскому", "Asia/Vladivostok"),
                          ("самарскому", "Europe/Samara"), ("калининградскому", "Europe/Kaliningrad"),
                          ("тихоокеанскому", "America/Los_Angeles"), ("гринвичскому", "UTC"),
                          ("центральноевропейскому", "Europe/Berlin")):
    CITY_HINTS_RU[f"по {_adjective} времени"] = _zone
    CITY_HINTS_RU[f"по {_adjective}"] = _zone
CITY_HINTS_RU["по мск"] = "Europe/Moscow"
ZONE_PHRASES = CITY_HINTS_RU
MY_TIME = ("по моему времени", "по моему", "по местному времени", "по местному", "моего времени")
ORDINAL_SUFFIXES = words("-го го")
