"""The kinds of value that the component's arguments take (a name, a count or a percentage, a
node port, an image...), each a Rule: its grammar, and how errors say it."""

from __future__ import annotations

import re
import zoneinfo

from . import defaults
from .image_reference import IMAGE_REFERENCE
from .names import DEPLOYMENT_SUFFIXES, NAME_LENGTH, SERVICE_SUFFIXES
from .rules import Accepts, Rule, integer_between, matching, non_empty_text, or_none

MAX_REPLICAS = 50
IntOrPercent = int | str

PERCENT = re.compile(r"([0-9]+)%")
"""A percentage as Kubernetes writes an int-or-string: digits and `%`."""


def is_percentage(value: object) -> bool:
    """`0%` to `100%`, written the shortest way (`7%`, not `007%`)."""
    found = PERCENT.fullmatch(value) if isinstance(value, str) else None
    return found is not None and found[1] == str(int(found[1])) and int(found[1]) <= 100


def count_or_percent(value: object) -> bool:
    if type(value) is int:
        return value >= 0
    return is_percentage(value)


def is_zero(value: IntOrPercent) -> bool:
    return value in (0, "0%")


_DNS_1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_DNS_1035_LABEL = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")
_HOST = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9.]{0,251}[A-Za-z0-9])?")


def short_label(pattern: re.Pattern[str]) -> Accepts:
    """A label that stays one with the longest suffix that a strategy adds to it."""
    return lambda value: matching(pattern)(value) and len(str(value)) <= NAME_LENGTH


DNS_1123_LABEL = Rule(
    "a DNS-1123 label: at most 63 characters among a-z, 0-9 and '-', "
    "starting and ending with a letter or digit",
    matching(_DNS_1123_LABEL),
)
DEPLOYMENT_NAME = Rule(
    f"a DNS-1123 label of at most {NAME_LENGTH} characters "
    f"(the strategies and the frontend add {', '.join(DEPLOYMENT_SUFFIXES)})",
    short_label(_DNS_1123_LABEL),
)
SERVICE_NAME = Rule(
    f"a DNS-1035 label of at most {NAME_LENGTH} characters among a-z, 0-9 and '-', starting "
    "with a letter and ending with a letter or digit "
    f"(the strategies, the gateway and the frontend add {', '.join(SERVICE_SUFFIXES)})",
    short_label(_DNS_1035_LABEL),
)
_HOST_NAME = re.compile(
    r"(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
)


def matching_host_name(value: object) -> bool:
    """A DNS name of lowercase labels, at least two (a Gateway listener's host name)."""
    return matching(_HOST_NAME)(value) and not str(value).replace(".", "").isdigit()


HOST = Rule("a host name or an IPv4 address, e.g. 127.0.0.1", matching(_HOST))
REPLICAS = Rule(f"an integer from 0 to {MAX_REPLICAS}", integer_between(0, MAX_REPLICAS))
COUNT_OR_PERCENT = Rule("an integer >= 0 or a percentage from 0% to 100%", count_or_percent)
MESSAGE = Rule("a non-empty text", non_empty_text)
IMAGE = Rule(
    "an image reference [registry/]name[:tag][@digest] with a lowercase name, "
    f"e.g. {defaults.IMAGE}",
    matching(IMAGE_REFERENCE),
)
NODE_PORT = Rule("an integer from 30000 to 32767", or_none(integer_between(30000, 32767)))


def or_the_apps(rule: Rule) -> Rule:
    """A version's message or image of its own, or none for the app's."""
    return Rule(f"{rule.accepted}, or none for the app's", or_none(rule.accepts))


ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
"""An environment variable's name that Kubernetes expands in `$(NAME)` (a C identifier)."""
RESERVED_ENV_NAMES = frozenset({"APP_MESSAGE"})
"""Names the pod template sets itself (components/pod.py)."""
MAX_ENV_VALUES = 50
MAX_ENV_BYTES = 64 * 1024


def env_values(value: object) -> bool:
    """A mapping of environment variables' names (not a reserved one) to texts, at most
    MAX_ENV_VALUES of them and MAX_ENV_BYTES in all."""
    if not isinstance(value, dict) or len(value) > MAX_ENV_VALUES:
        return False
    names_ok = all(
        isinstance(name, str) and ENV_NAME.fullmatch(name) and name not in RESERVED_ENV_NAMES
        for name in value
    )
    texts_ok = all(isinstance(text, str) for text in value.values())
    return names_ok and texts_ok and len(repr(value).encode()) <= MAX_ENV_BYTES


ENV_VALUES = Rule(
    f"a mapping of at most {MAX_ENV_VALUES} environment variables, each a name of letters, digits "
    f"and '_' not starting with a digit (not {', '.join(sorted(RESERVED_ENV_NAMES))}) to a text, "
    "e.g. APP_MODE: prod",
    env_values,
)

CRON_MACROS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
CRON_FIELDS: tuple[tuple[int, int, list[str]], ...] = (
    (0, 59, []),  # minute
    (0, 23, []),  # hour
    (1, 31, []),  # day of the month
    (1, 12, _MONTHS),  # month
    (0, 7, _DAYS),  # day of the week (0 and 7: Sunday)
)
_CRON_ITEM = re.compile(r"(\*|\?|[0-9A-Za-z]+(?:-[0-9A-Za-z]+)?)(?:/([0-9]+))?")


def cron_value(text: str, low: int, high: int, names: list[str]) -> int | None:
    if text.isdigit():
        return int(text) if low <= int(text) <= high else None
    upper = text.upper()
    return names.index(upper) + (1 if names is _MONTHS else 0) if upper in names else None


def cron_item(item: str, low: int, high: int, names: list[str]) -> bool:
    found = _CRON_ITEM.fullmatch(item)
    if found is None or (found[2] is not None and not 0 < int(found[2]) <= high):
        return False
    if found[1] in ("*", "?"):
        return True
    first, _, last = found[1].partition("-")
    start = cron_value(first, low, high, names)
    end = cron_value(last, low, high, names) if last else start
    return start is not None and end is not None and start <= end


def cron_schedule(value: object) -> bool:
    """A CronJob schedule as Kubernetes reads it: five fields (minute, hour, day of the month,
    month, day of the week; numbers, names, `*`, ranges, lists and steps) or a macro."""
    if not isinstance(value, str):
        return False
    if value.strip() in CRON_MACROS:
        return True
    parts = value.split()
    return len(parts) == len(CRON_FIELDS) and all(
        cron_item(item, low, high, names)
        for part, (low, high, names) in zip(parts, CRON_FIELDS, strict=True)
        for item in part.split(",")
    )


CRON_SCHEDULE = Rule(
    "a cron schedule of five fields (minute hour day-of-month month day-of-week), e.g. "
    "0 3 * * * for 03:00 every day, or @daily, @hourly...",
    cron_schedule,
)


def time_zone(value: object) -> bool:
    """An IANA time zone name this machine knows (its tz database), e.g. Europe/Madrid."""
    if not isinstance(value, str) or not value or value.startswith(("/", ".")) or ".." in value:
        return False
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


TIME_ZONE = Rule("an IANA time zone name, e.g. Etc/UTC or Europe/Madrid", time_zone)


_STORAGE = re.compile(r"([1-9][0-9]{0,5})(Mi|Gi)")


def storage_size(value: object) -> bool:
    """`1Mi` to `100Gi`, in Mi or Gi."""
    found = _STORAGE.fullmatch(value) if isinstance(value, str) else None
    if found is None:
        return False
    mebibytes = int(found[1]) * (1024 if found[2] == "Gi" else 1)
    return mebibytes <= 100 * 1024
