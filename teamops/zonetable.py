"""Zone abbreviations for the time-mention engine and `/tz`: what each names and how its
ambiguity is settled. Language-neutral; the words of each language are in
teamops/mentions/lexicon/. Data only.
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
# Two-letter city codes written after a time ("9am NY"); they count only in capitals. City and
# region names in words are in each language's lexicon (teamops/mentions/lexicon/).
# ---------------------------------------------------------------------------------------------
CITY_CODES: dict[str, str] = {"NY": "America/New_York", "LA": "America/Los_Angeles",
                              "SF": "America/Los_Angeles", "DC": "America/New_York"}
