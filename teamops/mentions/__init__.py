"""The time-mention engine: finds the clock times a chat message mentions and resolves each one
to a wall-clock date and time in a zone. Hand-built and table-driven; the words it knows are in
lexicon/ (one data module per language), the zone abbreviations in teamops.zonetable. See
README.md beside this file for the pipeline, the reasons behind each rule, and how to add a
language.

Public API (unchanged since issue 3): find_mentions, might_mention_time, Mention, mention_json,
resolve_zone, zone_for, is_iana, zone_names; and might_hold_unread_time, the cheap signal for the LLM
fallback (issue 14).

DST rule, for every zone with transitions: a wall time that does not exist (spring forward) is
read with the offset in force before the gap, i.e. shifted forward by the gap (02:30 -> 03:30
in New York); a wall time that happens twice (fall back) is the first occurrence (fold=0, the
daylight-saving offset). Both are flagged in Mention.dst; `local` keeps the time as written.
"""

from teamops.mentions.engine import find_mentions, might_hold_unread_time, might_mention_time
from teamops.mentions.model import Mention, mention_json
from teamops.mentions.zones import is_iana, resolve_zone, zone_for, zone_names

__all__ = ["Mention", "find_mentions", "is_iana", "might_hold_unread_time", "might_mention_time",
           "mention_json", "resolve_zone", "zone_for", "zone_names"]
