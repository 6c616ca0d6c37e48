"""The placeholder engine: what it renders, and everything it refuses before anything is saved
or sent, each refusal naming its line."""

import pytest
from django.utils.safestring import SafeData

from messaging.placeholders import (
    NONE,
    PlaceholderError,
    is_field_name,
    placeholders_check,
    placeholders_render,
)


def refusal(text: str) -> PlaceholderError:
    with pytest.raises(PlaceholderError) as caught:
        placeholders_check(text)
    return caught.value


# --- what it renders ----------------------------------------------------------------------------


def test_it_fills_each_placeholder_with_the_recipients_value():
    text = "Hi {{ first_name }}, you owe R{{ amount }}."
    values = {"first_name": "Thandi", "amount": "1 234.50"}
    assert placeholders_render(text, values) == "Hi Thandi, you owe R1 234.50."


def test_a_fallback_stands_in_for_a_missing_or_empty_value():
    text = 'Hi {{ first_name|default:"there" }}!'
    assert placeholders_render(text, {}) == "Hi there!"
    assert placeholders_render(text, {"first_name": ""}) == "Hi there!"
    assert placeholders_render(text, {"first_name": "Sam"}) == "Hi Sam!"


def test_a_missing_value_without_a_fallback_renders_as_nothing():
    assert placeholders_render("Hi {{ first_name }}.", {}) == "Hi ."


def test_text_without_placeholders_is_returned_as_it_is():
    text = "50% off {braces} and <b>tags</b> & more"
    assert placeholders_check(text) is NONE
    assert placeholders_render(text, {"x": "y"}) == text
    assert placeholders_render(text, {}, html=True) == text


def test_values_are_escaped_in_html_and_taken_as_they_are_elsewhere():
    values = {"name": '<script>alert("x")</script> & Co'}
    assert placeholders_render("{{ name }}", values, html=True) == (
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co"
    )
    assert placeholders_render("{{ name }}", values) == '<script>alert("x")</script> & Co'


def test_the_composers_own_html_and_fallback_are_not_escaped():
    text = '<p>Hi {{ name|default:"<b>friend</b>" }}</p>'
    assert placeholders_render(text, {}, html=True) == "<p>Hi <b>friend</b></p>"


def test_it_says_which_names_are_used_and_which_have_no_fallback():
    used = placeholders_check(
        'Hi {{ first_name|default:"there" }}, {{ amount }} to {{ recipient }}; {{ first_name }}'
    )
    assert used.names == {"first_name", "amount", "recipient"}
    assert used.required == {"first_name", "amount", "recipient"}
    # The built-ins always have a value: only fields can be missing.
    assert used.fields == {"first_name", "amount"}
    assert placeholders_check('{{ a|default:"x" }}').fields == frozenset()


def test_a_name_like_a_context_attribute_reaches_nothing():
    text = "{{ dicts }}{{ autoescape }}{{ template }}{{ push }}{{ flatten }}{{ get }}"
    assert placeholders_render(text, {}) == ""


def test_names_may_use_letters_of_any_script_in_lower_case():
    assert placeholders_render("{{ prénom }}", {"prénom": "Zoë"}) == "Zoë"
    assert is_field_name("first_name") and is_field_name("prénom") and is_field_name("a1")
    assert not any(map(is_field_name, ["First_Name", "a__b", "_a", "a_", "a-b", "a b", ""]))


# --- what it refuses ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tag",
    [
        "{% for x in items %}{{ x }}{% endfor %}",
        '{% include "base.html" %}',
        "{% load static %}",
        "{% debug %}",
        '{% extends "base.html" %}',
        "{% if first_name %}yes{% endif %}",
        "{% now 'Y' %}",
        "{% comment %}x{% endcomment %}",
    ],
)
def test_every_tag_is_refused(tag):
    error = refusal(f"Hello\n{tag}")
    assert error.line == 2
    assert "is not allowed: content may only hold placeholders" in str(error)
    assert str(error).startswith("Line 2: {% ")


@pytest.mark.parametrize("text", ["{{ name.upper }}", "{{ items.0 }}", "{{ a.b.c }}"])
def test_dotted_lookups_are_refused(text):
    assert "a placeholder is one field's name, without dots" in str(refusal(text))


@pytest.mark.parametrize(
    "text", ["{{ name|upper }}", "{{ name|safe }}", "{{ name|escape }}", "{{ name|date:'Y' }}"]
)
def test_every_filter_but_default_is_refused(text):
    error = refusal("one\ntwo\n" + text)
    assert error.line == 3
    assert "the only filter is default" in str(error)


def test_a_fallback_must_be_written_text_not_another_field():
    assert "the fallback must be quoted text" in str(refusal("{{ a|default:b }}"))


def test_default_needs_its_fallback():
    assert "default needs its fallback" in str(refusal("{{ a|default }}"))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{{ First_Name }}", "lower-case"),
        ("{{ _private }}", "may not begin with _"),
        ('{{ "literal" }}', "is not a placeholder"),
        ("{{ 42 }}", "is not a placeholder"),
        ("{{ _(name) }}", "may not begin with _"),
        ("{{ }}", "names no field"),
        ("{{ first-name }}", "Could not parse"),
    ],
)
def test_what_is_not_a_field_name_is_refused(text, words):
    assert words in str(refusal(text))


@pytest.mark.parametrize(
    ("text", "line"),
    [("Hi {{ first_name\n}}", 1), ("a\nb {% if", 2), ("a\n\n{# note", 3)],
)
def test_an_opening_brace_pair_never_closed_is_refused_with_its_line(text, line):
    error = refusal(text)
    assert error.line == line
    assert "is not closed by" in str(error)


def test_the_error_names_the_line_of_the_offending_placeholder():
    error = refusal("Dear {{ name }},\n\nYour balance is {{ amount|floatformat }}.\n")
    assert str(error) == (
        "Line 3: {{ amount|floatformat }}: the only filter is default, as in "
        '{{ first_name|default:"there" }}.'
    )


def test_a_comment_is_allowed_and_sends_nothing():
    assert placeholders_render("a{# for the team #}b", {}) == "ab"


def test_what_is_rendered_is_plain_text_that_a_page_still_escapes():
    # Django marks a template's output safe; a recipient's values must not reach a page so.
    rendered = placeholders_render("Hi {{ name }}", {"name": "<script>"})
    assert rendered == "Hi <script>"
    assert not isinstance(rendered, SafeData)
    assert not isinstance(
        placeholders_render("<p>{{ name }}</p>", {"name": "x"}, html=True), SafeData
    )
