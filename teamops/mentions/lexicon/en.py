"""English. Every field the engine reads is here, each with why it exists; the other lexicons
use the same names (a field a language does not need is left out)."""

from teamops.mentions.lexicon import compounds, words

# --- Cues: the words that make a bare number ("at 3") a clock time --------------------------
# A bare hour is a time only after one of these (issue 3). "by 3" is not one: "by 3 votes".
CUES_SINGLE = words("at around arround till til until untill before after @ ca circa approx")
# Range starters count only when a range follows ("from 2 to 4pm"); alone, "from 3" is nothing.
CUES_RANGE = words("from")
CUES_BETWEEN = words("between")
# Words before "at" that make the number a value ("stuck at 3", "capped at 5"); "is at 10" stays
# a time, because "the standup is at 10" is the common case.
CUE_VALUE_BEFORE = {"at": words("""
look looks looking looked stuck capped peaked priced valued limit limited set max min maxed
stays stay stayed sits sitting sat remains remain remained hovering hovers plateaued
we're were currently still counter count coverage score level version v
""")}
# "at3pm": a cue glued to a time that has am/pm.
CUES_GLUED = words("at")
# "it's ten to five", "it's half past three": a cue for the minute-first phrases.
IT_IS = words("it's its it’s")
OR_WORDS = words("or and")
AND_WORDS = words("and")
MORE_WORDS = words("more less fewer")
# A number after these is a length of time, not a clock time ("for 3 hours", "in 20 minutes").
DURATION_BEFORE = words("for took takes take lasted lasts in during per every")

# --- Ranges --------------------------------------------------------------------------------
RANGE_WORDS = words("to till til until thru through and")
RANGE_ARTICLES = words("the")
# "pushed the 2pm to 3:30pm", "moved 10 to 11": a time moved, two mentions, never a range.
RANGE_NOT_AFTER = words("the our my your this that moved move moving push pushed pushing shift shifted "
                        "bump bumped reschedule rescheduled change changed")
WEEKDAY_SPAN_WORDS = words("to through thru till until")

# --- Counts: a number followed by these is a count ("at 3 retries", "around 10 people") -------
COUNTED_NOUNS = words("""
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
more less others other tabs tab screens screen slides slide bottles beers cups coffees kids
apples emails email meetings sprints sprint stories story hotfixes degrees deg km miles mi kg
lbs rows row columns col cols records record chars characters bytes bits questions
question answers answer comments comment reviews review reviewers approvals candidates
interviews slots seats places spots rooms tables desks chairs laptops machines vms containers
clusters zones shards partitions versions releases rc beta alpha patches patch
episodes pizzas locations sites offices cities countries languages weeks' different ways
""")
# Words between a number and its noun that keep it a count ("5 consecutive failures").
COUNT_ADJECTIVES = words("""
consecutive failed successful new more extra other different separate parallel concurrent
straight total open closed active idle free unique distinct additional
""")

# --- Shapes that are not clock times ---------------------------------------------------------
# Right before an H:MM: a duration, a score, a verse ("took 1:20", "John 3:16", "latency 0:35").
NOT_CLOCK_BEFORE = words("""
took takes lasted lasts duration length runtime elapsed pace score scored won lost beat
final result ratio aspect tied draw record skip jump rewind timestamp latency median mean avg
average p50 p90 p95 p99 uptime downtime lap split time: tempo
john matthew mark luke acts romans genesis exodus leviticus numbers deuteronomy psalm psalms
proverbs isaiah jeremiah ezekiel daniel revelation revelations corinthians galatians ephesians
philippians colossians thessalonians timothy hebrews james peter jude chapter verse ch vs
""")
# Right after an H:MM: a ratio or a duration ("16:10 aspect ratio", "1:20 long").
NOT_CLOCK_AFTER = words("""
aspect ratio ratios display screen monitor format scale split odds hours hrs hr h min mins
minutes long duration lead win victory record pace per km kms mi miles
""")
# Right after "15h"/"2h": a duration ("a 15h flight").
DURATION_NOUNS = words("""
flight flights drive drives shift shifts trip ride journey day days week workday work coding sleep
delay delays late support sla battery fast hike travel layover window turnaround straight nonstop
long of min mins minutes
""")
# Before a dotted "15.30": a version or a number.
NOT_CLOCK_BEFORE_DOTTED = words("""
version ver v python node nodejs release upgrade update bump build api sdk lib ios android
kotlin java go rust chrome firefox django rails ruby php perl swift price cost costs rate score
""")

# --- Words glued to a clock ------------------------------------------------------------------
# "3 o'clock", "3ish" make a bare number a time on their own.
OCLOCK_WORDS = words("o'clock o’clock oclock o'clock -ish ish")
NOON_WORDS = words("noon midday")
MIDNIGHT_WORDS = words("midnight")

# --- Number words and clock phrases ----------------------------------------------------------
_UNITS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50}
NUMBERS = {
    **_UNITS, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, **_TENS,
    **compounds(_TENS, _UNITS, "{t}-{u}", "{t} {u}"),
}
# "seven oh five": minutes 1-9 are said with "oh".
MINUTE_FORMS = {f"{o} {u}": n for o in ("oh", "o") for u, n in _UNITS.items()}
QUARTER_WORDS = {"quarter": 15}
# A bare number word is a time only with a cue AND one of these (or punctuation, the end, a day
# word, a day part, a zone) right after it: "at three," / "at three tomorrow", never "at three
# locations" ("at one point" is a count that no list of nouns would ever finish).
WORD_HOUR_FOLLOWERS = words("""
or and then ok okay works work working sharp please pls today tomorrow tonight tmrw on at in
is it for with if so but latest earliest instead again maybe ish fine good
i we you they he she i'll we'll you'll i'm we're i'd we'd let's lets would could should can will
is was are be sounds suits still then? our my your their everyone folks guys team the
""")
CLOCK_PHRASES = (
    ("half past {h}", "h:30", "strong"),
    ("a? quarter past|after {h}", "h:15", "strong"),
    ("a? quarter to|till|of {h}", "h-1:45", "strong"),
    ("{m5} past {h}", "h:m", "strong"),
    ("{m5} minutes? after {h}", "h:m", "cue"),
    ("{m5} minutes? to|till|of {h}", "h-1:60-m", "cue"),
    ("half {h}", "h:30", "tail"),  # British: "half three" is 3:30
    ("{h} {mm}", "h:m", "tail"),  # "three thirty", "seven fifteen"
    ("{h}-{mm}", "h:m", "tail"),  # "three-thirty"
    ("{h} {mo}", "h:m", "tail"),  # "seven oh five"
)
SLOTS = {"mo": MINUTE_FORMS}
MINUTE_SLOTS = ("mo",)  # the slots of SLOTS that hold minutes (the others hold hours)

# --- Days -----------------------------------------------------------------------------------
DAY_OFFSETS = {
    "today": 0, "tonight": 0, "tonite": 0, "tomorrow": 1, "tmrw": 1, "tmr": 1, "tmw": 1,
    "tomorow": 1, "tommorow": 1, "tommorrow": 1, "2morrow": 1, "2moro": 1, "yesterday": -1,
}
DAY_PHRASES = {"day after tomorrow": 2, "the day after tomorrow": 2, "this morning": 0,
               "this afternoon": 0, "this evening": 0}
WEEKDAYS = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6}
# Short forms count only right before a time or punctuation ("Mon 10am"), never before a word.
WEEKDAY_ABBREVIATIONS = {"mon": 0, "tue": 1, "tues": 1, "wed": 2, "thu": 3, "thur": 3, "thurs": 3,
                         "fri": 4, "sat": 5, "sun": 6}
# "we sat at 10:00", "the sun 10:00": a verb or a noun after a subject; "sat 11:00 brunch" is a day.
WEEKDAYS_VERB_LIKE = words("sat sun wed")
SUBJECTS_BEFORE = words("i we he she they you it who that which and the a just had have has was were "
                        "to will then also still never finally i've we've they've")
NEXT_WORDS = words("next")
MONTHS = {}
for _n, _names in enumerate(("january jan", "february feb", "march mar", "april apr", "may", "june jun",
                             "july jul", "august aug", "september sep sept", "october oct",
                             "november nov", "december dec"), start=1):
    MONTHS.update({name: _n for name in _names.split()})
# Month names that are also common words count only capitalised ("May 5", not "may 5").
MONTHS_NEED_CAPITAL = words("may mar march jun aug sep")
MONTH_DAY_LINKS = words("of")

# --- Day parts: turn a 1-12 hour into morning or afternoon (kinds: am, pm, evening, night) ---
DAY_PARTS = {
    "morning": "am", "in the morning": "am", "this morning": "am", "tomorrow morning": "am",
    "afternoon": "pm", "in the afternoon": "pm", "this afternoon": "pm", "arvo": "pm", "in the arvo": "pm",
    "evening": "evening", "in the evening": "evening", "this evening": "evening",
    "tonight": "evening", "tonite": "evening", "night": "night", "at night": "night",
}
# Day parts that do not make a bare number a time on their own ("3 morning" is not a phrase).
DAY_PARTS_NOT_ALONE = words("morning evening night afternoon")
GREETINGS = ("good morning", "good evening", "good afternoon")
SINCE_WORDS = words("since")
PAST_NIGHT = ("last night",)
# "tonight 9?": "tonight" right before a bare hour is a cue when nothing but these follows.
TONIGHT_WORDS = words("tonight tonite")
TONIGHT_OK_AFTER = words("ok okay works work then fine good sounds please pls sharp")

# --- Zones written as places -----------------------------------------------------------------
# "3pm London time", "9am NYC", "10:00 (Berlin)". Lower case keys.
CITY_HINTS = {
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
    # Regions and countries of one zone, which the city data (cities only) cannot name.
    "hawaii": "Pacific/Honolulu", "alaska": "America/Anchorage", "arizona": "America/Phoenix",
    "pakistan": "Asia/Karachi", "bangladesh": "Asia/Dhaka", "iran": "Asia/Tehran", "nepal": "Asia/Kathmandu",
    "iceland": "Atlantic/Reykjavik", "venezuela": "America/Caracas", "cuba": "America/Havana",
}
# Region words that name a zone only with "time" after them ("central" alone is a word), except
# the US regions capitalised right after a time ("10am Central").
CITY_NEEDS_TIME = words("central mountain german british uk india japan israel spain france germany portugal")
CITY_CAPITALISED_OK = words("central mountain")
TIME_WORD = words("time")
# "my time", "local time": the sender's zone, said.
MY_TIME = ("my time zone", "my timezone", "my time", "my tz", "local time")
# A zone written apart from the times: "(times in PT)" covers the zone-less times of its
# sentence; "all times CET:", "times are in UTC" the whole message. Regex fragments, blank = [ \t]+.
DETACHED_IN_BRACKETS = (r"(?:all[ \t]+)?times?[ \t]+(?:are[ \t]+)?(?:in[ \t]+)?",)
DETACHED_APART = (r"all[ \t]+times?[ \t]+(?:are[ \t]+)?(?:in[ \t]+)?", r"times[ \t]+(?:are[ \t]+)?(?:in[ \t]+)?")
# "3pm in London time": a preposition before a city.
CITY_LEADS = words("in")
# "on the 15th": a month day on its own ("on the 3rd floor" is no date: a time or punctuation must follow).
ORDINAL_DAY_LEADS = ("on the", "on")
ORDINAL_SUFFIXES = words("st nd rd th")
