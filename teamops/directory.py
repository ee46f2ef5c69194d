"""What a platform can tell us about people: each user's profile zone and a chat's member list
(Slack: users.info / users.list and conversations.members), cached in the store so that a busy
chat costs no platform call per message.

A sender with such a directory offers two coroutines, found by duck typing (the way
`Assistant.in_chat` finds `is_member`):
    profiles(user_ids) -> {user_id: Profile}     ids it could not look up are left out
    chat_members(chat_id) -> (user_ids, complete) | None
                                                 None: it could not say; complete is False when the
                                                 chat has more members than the platform lists
Nothing here knows which platform it serves. A zone read from a profile is stored with the
platform's name as its source and never replaces a zone the person chose (store.CHOSEN_SOURCES).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from teamops.events import Profile
from teamops.store import CHOSEN_SOURCES

PROFILE_MAX_AGE = timedelta(days=1)  # a profile read longer ago is read again when next needed
ROSTER_MAX_AGE = timedelta(days=1)  # joins and leaves keep it current in between
ROSTER_RETRY = timedelta(minutes=10)  # a member list the platform could not give is asked again after this


def _older(moment, age: timedelta, now: datetime) -> bool:
    if moment is None:
        return True
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return now - moment > age


def profile_due(user: dict | None, now: datetime) -> bool:
    """Should this user's profile be read (again)? Never for a zone the person chose."""
    if user is None:
        return True
    if user.get("source") in CHOSEN_SOURCES:
        return False
    return _older(user.get("profile_at"), PROFILE_MAX_AGE, now)


def roster_due(chat: dict, now: datetime) -> bool:
    age = ROSTER_RETRY if chat.get("roster") == "failed" else ROSTER_MAX_AGE
    return _older(chat.get("roster_at"), age, now)


class Directory:
    def __init__(self, store, senders: dict):
        self.store = store
        self.senders = senders

    def _source(self, platform: str, method: str = "profiles"):
        sender = self.senders.get(platform)
        return sender if callable(getattr(sender, method, None)) else None

    def has_profiles(self, platform: str) -> bool:
        return self._source(platform) is not None

    async def user(self, platform: str, user_id: str) -> dict | None:
        """The stored user, with the platform's profile read first when it is due."""
        user = await self.store.user(platform, user_id)
        source = self._source(platform)
        now = datetime.now(timezone.utc)
        if source is None or not profile_due(user, now):
            return user
        found = await source.profiles([user_id])
        profile = found.get(user_id)
        if profile is None:  # the platform could not say: what we have will do
            return user
        await self.store.set_profiles(platform, {user_id: profile}, platform)
        merged = {**(user or {}), "platform": platform, "user_id": user_id, "source": platform,
                  "profile_tz": profile.tz, "profile_at": now, "bot": profile.bot}
        if profile.name:
            merged["name"] = profile.name
        if profile.tz:
            merged["tz"] = profile.tz
        else:
            merged.pop("tz", None)
        return merged

    async def use_profile(self, platform: str, user_id: str) -> tuple[str, Profile | None]:
        """`/tz auto`: the profile's zone wins again over one the person chose. ("none", None) when
        the platform has no profiles, ("unknown", None) when it could not say, else ("ok", profile)."""
        source = self._source(platform)
        if source is None:
            return "none", None
        profile = (await source.profiles([user_id])).get(user_id)
        if profile is None:
            return "unknown", None
        await self.store.set_profiles(platform, {user_id: profile}, platform, override=True)
        return "ok", profile

    async def roster(self, platform: str, chat: dict) -> dict:
        """The chat with its member list brought up to date, where the platform has one and it is
        due: every listed member counts with their profile zone, whether or not they ever wrote."""
        source = self._source(platform, "chat_members")
        now = datetime.now(timezone.utc)
        if source is None or not roster_due(chat, now):
            return chat
        chat_id = chat["chat_id"]
        listed = await source.chat_members(chat_id)
        if listed is None or not listed[1]:
            # Could not say (asked again soon), or too many to list: then the members seen
            # writing are the chat's members, as on a platform without a directory.
            state = "failed" if listed is None else "partial"
            await self.store.set_roster(platform, chat_id, state)
            return {**chat, "roster": state, "roster_at": now}
        ids = list(dict.fromkeys(listed[0]))
        users = await self.store.users_many(platform, ids)
        due = [user_id for user_id in ids if profile_due(users.get(user_id), now)]
        if due:
            found = await self.profiles(platform, due)
            if found:
                await self.store.set_profiles(platform, found, platform)
                users = await self.store.users_many(platform, ids)
        members = {}
        for user_id in ids:
            user = users.get(user_id) or {}
            if not user.get("bot"):
                members[user_id] = {"tz": user.get("tz"), "name": user.get("name", "")}
        gone = [user_id for user_id in (chat.get("members") or {}) if user_id not in members]
        await self.store.set_roster(platform, chat_id, "full", members, gone)
        return await self.store.chat(platform, chat_id)

    async def profiles(self, platform: str, user_ids: list[str]) -> dict[str, Profile]:
        source = self._source(platform)
        return await source.profiles(user_ids) if source is not None and user_ids else {}
