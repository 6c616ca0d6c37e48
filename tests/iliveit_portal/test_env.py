import pytest
from django.core.exceptions import ImproperlyConfigured

from iliveit_portal.env import env_bool, env_choice, env_float, env_int, env_list, env_str


def test_env_str_strips_and_defaults():
    assert env_str("X", "fallback", environ={}) == "fallback"
    assert env_str("X", environ={"X": "  value "}) == "value"


@pytest.mark.parametrize("word", ["1", "true", "YES", "on"])
def test_env_bool_reads_true_words(word):
    assert env_bool("X", environ={"X": word}) is True


@pytest.mark.parametrize("word", ["0", "false", "No", "off", ""])
def test_env_bool_reads_false_words(word):
    assert env_bool("X", True, environ={"X": word}) is False


def test_env_bool_refuses_anything_else():
    with pytest.raises(ImproperlyConfigured, match="X must be a boolean"):
        env_bool("X", environ={"X": "maybe"})


def test_env_int_reads_defaults_and_refuses_junk():
    assert env_int("X", 7, environ={}) == 7
    assert env_int("X", 7, environ={"X": "12"}) == 12
    with pytest.raises(ImproperlyConfigured, match="whole number"):
        env_int("X", 7, environ={"X": "1.5"})
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int("X", 7, minimum=1, environ={"X": "0"})


def test_env_float_refuses_junk():
    assert env_float("X", 0.5, environ={"X": "2.25"}) == 2.25
    with pytest.raises(ImproperlyConfigured, match="must be a number"):
        env_float("X", 0.5, environ={"X": "fast"})


def test_env_list_splits_on_commas_and_drops_blanks():
    assert env_list("X", ["a"], environ={}) == ["a"]
    assert env_list("X", environ={"X": "a.example, b.example,,"}) == ["a.example", "b.example"]


def test_env_choice_accepts_only_listed_values():
    assert env_choice("X", ("staging", "production"), "staging", environ={}) == "staging"
    assert env_choice("X", ("staging", "production"), "staging", environ={"X": "Production"}) == (
        "production"
    )
    with pytest.raises(ImproperlyConfigured, match="one of staging, production"):
        env_choice("X", ("staging", "production"), "staging", environ={"X": "prod"})
