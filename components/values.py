"""The kinds of value that the component's arguments take (a name, a count or a percentage, a
node port, an image...), each a Rule: its grammar, and how errors say it."""

from __future__ import annotations

import re

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
    f"(the strategies add {', '.join(DEPLOYMENT_SUFFIXES)})",
    short_label(_DNS_1123_LABEL),
)
SERVICE_NAME = Rule(
    f"a DNS-1035 label of at most {NAME_LENGTH} characters among a-z, 0-9 and '-', starting "
    "with a letter and ending with a letter or digit "
    f"(the strategies add {', '.join(SERVICE_SUFFIXES)})",
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
