import pytest

from consultroom.companies.validation import (
    business_number_ok,
    business_number_with_check_digit,
    country_ok,
    hs_code_ok,
    language_ok,
    normalize_hs_code,
)
from consultroom.security import safe_next


@pytest.mark.parametrize("number", ["220-81-62517", "1248100998", "2208162517", "120-81-47521"])
def test_business_number_ok_real_numbers(number):
    assert business_number_ok(number) is True


@pytest.mark.parametrize(
    "number", ["220-81-62518", "1234567890", "123456789", "12345678901", "abcdefghij", "", "٢٢٠٨١٦٢٥١٧"]
)
def test_business_number_ok_rejects_bad_check_digit_and_shapes(number):
    assert business_number_ok(number) is False


def test_business_number_ok_accepts_full_width_digits_from_korean_ime():
    assert business_number_ok("２２０－８１－６２５１７") is True


def test_business_number_with_check_digit_completes_valid_numbers():
    for first in ("220816251", "124810099", "000000000", "999999999"):
        assert business_number_ok(business_number_with_check_digit(first))


@pytest.mark.parametrize("code", ["330499", "010121", "970110", "847130"])
def test_hs_code_ok_valid(code):
    assert hs_code_ok(code) is True


@pytest.mark.parametrize("code", ["33049", "3304990", "000000", "980000", "770000", "330099x", "330000"[:5], "ab1234"])
def test_hs_code_ok_invalid(code):
    assert hs_code_ok(code) is False


def test_normalize_hs_code_strips_dots_and_spaces():
    assert normalize_hs_code("3304.99") == "330499"
    assert normalize_hs_code("8471 30") == "847130"


def test_country_and_language_codes():
    assert country_ok("US") and country_ok("kr") and not country_ok("XX") and not country_ok("USA")
    assert language_ok("ko") and language_ok("EN") and not language_ok("xx") and not language_ok("kor")


@pytest.mark.parametrize(
    "target",
    [
        "//evil.com",
        "https://evil.com",
        "////evil.com",
        "/\\evil.com",
        "\\\\evil.com",
        "http:/evil.com",
        "javascript:alert(1)",
        "/\t/evil.com",
        " //evil.com",
        "evil.com",
        "/%0a/evil.com".replace("%0a", "\n"),
    ],
)
def test_safe_next_rejects_off_site_targets(target):
    assert safe_next(target, default="/home") == "/home"


@pytest.mark.parametrize("target", ["/companies", "/companies/3?page=2", "/account#prefs"])
def test_safe_next_keeps_on_site_paths(target):
    assert safe_next(target) == target


def test_small_int_takes_only_ascii_digits_within_length():
    from consultroom.forms_util import small_int

    assert [small_int(v) for v in ("42", " 7 ", "", None, "²", "٣", "-1", "1.5", "1234567890")] == [
        42,
        7,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
    ]
    assert small_int("2026", max_digits=4) == 2026
