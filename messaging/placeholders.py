"""Placeholders in campaign content: `{{ first_name }}` and `{{ first_name|default:"there" }}`.

Content is compiled by a Django template engine of its own, configured apart from the one that
draws the portal's pages: it has no tags at all (no {% for %}, {% include %}, {% load %}...)
and one filter, `default`. A compiled template is then walked once more, so that anything else
the template language would let through is refused too, before a campaign is saved: dotted
lookups (`{{ name.upper }}` would reach Python attributes), a fallback that names another
variable, names that are not field names. Values come from a plain dict, never an object.

    placeholders_check(text) -> the names used, or PlaceholderError naming the line
    placeholders_render(text, values, html=...) -> the text with each recipient's values

Compiled templates are cached by their text, so that a campaign's content is compiled once per
worker process and each message only pays for the render.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from django.template import Context, Engine, Library, TemplateSyntaxError
from django.template.base import FilterExpression, Template, TextNode, Variable, VariableNode
from django.template.defaultfilters import default as default_filter

# What a field name looks like: letters and digits in runs joined by single "_", lower-case
# (is_field_name). The recipients CSV's header cells are made into this shape
# (messaging/recipients/fields.py), and the API's field names must already have it.
_NAME = re.compile(r"[^\W_]+(?:_[^\W_]+)*")

# Placeholders every message has, whatever its recipient's fields: the recipient itself, and
# its signed unsubscribe link (messaging/unsubscribe_links.py).
RECIPIENT = "recipient"
UNSUBSCRIBE_URL = "unsubscribe_url"
BUILT_INS = frozenset({RECIPIENT, UNSUBSCRIBE_URL})

# The engine's only library: the `default` filter, under its usual name.
register = Library()
register.filter("default", default_filter)

# How many compiled contents a process keeps: a few campaigns' worth of fields each.
CACHE_SIZE = 512

_OPENERS = ("{{", "{%", "{#")


def is_field_name(name: str) -> bool:
    return bool(_NAME.fullmatch(name)) and name == name.lower()


class PlaceholderError(ValueError):
    """Content that cannot be used as a template; the text names the line, for the composer."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"Line {line}: {reason}")
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class Placeholders:
    """The placeholders one content uses: every name, and those with no fallback."""

    names: frozenset[str]
    required: frozenset[str]  # used at least once without a fallback

    @property
    def fields(self) -> frozenset[str]:
        """Names a recipient must bring a value for (the built-ins always have one)."""
        return self.required - BUILT_INS


NONE = Placeholders(names=frozenset(), required=frozenset())


class _SandboxEngine(Engine):
    # Engine adds Django's tags and filters to whatever builtins it is given; here none.
    default_builtins: list[str] = []


@functools.cache
def _engine() -> Engine:
    # Built on first use: it imports this very module as its one library.
    return _SandboxEngine(builtins=[__name__], libraries={}, loaders=[], autoescape=False)


@dataclass(frozen=True)
class _Compiled:
    template: Template
    placeholders: Placeholders


def placeholders_check(text: str) -> Placeholders:
    """The placeholders `text` uses, or PlaceholderError saying what is wrong, and on which
    line."""
    if not _has_opener(text):
        return NONE
    return _compile(text).placeholders


def placeholders_render(text: str, values: dict[str, str], *, html: bool = False) -> str:
    """`text` with each placeholder replaced by its value, or its fallback, or nothing.

    In HTML (`html=True`) values are escaped; fallbacks are the composer's own text and are
    not. Raises PlaceholderError for content that does not compile (checked on saving and
    at launch, so a message never meets one).
    """
    if not _has_opener(text):
        return text
    # A plain str, never Django's SafeString: what a recipient's values made is data to every
    # page that shows it, and must be escaped there like any other.
    return "".join([_compile(text).template.render(Context(values, autoescape=html))])


def _has_opener(text: str) -> bool:
    # Most texts (a video's data is many small strings) hold no placeholder at all: they are
    # answered here and never take a place in the cache.
    return "{" in text and any(opener in text for opener in _OPENERS)


@functools.lru_cache(maxsize=CACHE_SIZE)
def _compile(text: str) -> _Compiled:
    try:
        template = Template(text, engine=_engine())
    except TemplateSyntaxError as error:
        token = getattr(error, "token", None)
        raise PlaceholderError(getattr(token, "lineno", 1), _reason(error, token)) from None
    names: set[str] = set()
    required: set[str] = set()
    for node in template.nodelist:
        if isinstance(node, VariableNode):
            name, has_fallback = _placeholder(node.filter_expression, node.token.lineno)
            names.add(name)
            if not has_fallback:
                required.add(name)
        elif isinstance(node, TextNode):
            _refuse_stray_opener(node.s, node.token.lineno)
        else:  # pragma: no cover - the engine has no tags to make another node
            raise PlaceholderError(node.token.lineno, "only placeholders are allowed")
    placeholders = Placeholders(names=frozenset(names), required=frozenset(required))
    return _Compiled(template=template, placeholders=placeholders)


def _placeholder(expression: FilterExpression, line: int) -> tuple[str, bool]:
    """The name a {{ ... }} reads and whether it has a fallback; refuses anything else."""
    var = expression.var
    shown = "{{ " + expression.token + " }}"
    if not isinstance(var, Variable) or var.lookups is None:
        raise PlaceholderError(line, f"{shown} is not a placeholder; write {{{{ first_name }}}}.")
    if len(var.lookups) > 1:
        raise PlaceholderError(
            line,
            f"{shown}: a placeholder is one field's name, without dots "
            f"({{{{ {var.lookups[0]} }}}}).",
        )
    name = var.lookups[0]
    if var.translate or not is_field_name(name):
        raise PlaceholderError(
            line,
            f"{shown}: placeholder names are lower-case letters, digits and _ "
            "(“First Name” is {{ first_name }}).",
        )
    for _function, arguments in expression.filters:
        # Only `default` is registered, and it takes one argument: it must be written text,
        # not another placeholder's name.
        for is_lookup, argument in arguments:
            if is_lookup and argument.lookups is not None:
                raise PlaceholderError(
                    line,
                    f'{shown}: the fallback must be quoted text, as in |default:"there".',
                )
    return name, bool(expression.filters)


def _refuse_stray_opener(text: str, first_line: int) -> None:
    """A "{{" the template language left as text was never closed on its line: sent as it is,
    the recipient would see the braces."""
    for opener in _OPENERS:
        at = text.find(opener)
        if at >= 0:
            closer = {"{{": "}}", "{%": "%}", "{#": "#}"}[opener]
            raise PlaceholderError(
                first_line + text.count("\n", 0, at),
                f"“{opener}” is not closed by “{closer}” on the same line.",
            )


def _reason(error: TemplateSyntaxError, token) -> str:
    """Django's words, or ours where its words would mislead a composer."""
    contents = getattr(token, "contents", "")
    kind = getattr(getattr(token, "token_type", None), "name", "")
    if kind == "BLOCK":
        return (
            f"{{% {contents} %}} is not allowed: content may only hold placeholders such as "
            "{{ first_name }}."
        )
    message = str(error)
    if message.startswith("Invalid filter"):
        return (
            f"{{{{ {contents} }}}}: the only filter is default, as in "
            '{{ first_name|default:"there" }}.'
        )
    if message.startswith("default requires"):
        return f'{{{{ {contents} }}}}: default needs its fallback, as in |default:"there".'
    if message.startswith("Empty variable tag"):
        return "{{ }} names no field."
    if message.startswith("Variables and attributes may not begin with underscores"):
        return f"{{{{ {contents} }}}}: placeholder names may not begin with _."
    return f"{{{{ {contents} }}}}: {message}" if kind == "VAR" else message
