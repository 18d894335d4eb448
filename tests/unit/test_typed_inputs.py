"""Issue 15 item 7: what people type into forms — a bare domain is a website (only http(s) addresses
become links), and the help examples pass their own checks."""

import pytest
from flask_babel import force_locale

from consultroom.web_address import normalize_website


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("example.com", "https://example.com"),
        ("  www.hanbit.co.kr/en  ", "https://www.hanbit.co.kr/en"),
        ("shop.example.jp:8443/catalog?x=1", "https://shop.example.jp:8443/catalog?x=1"),
        ("한빛.kr", "https://한빛.kr"),
        ("http://example.com", "http://example.com"),
        ("HTTPS://Example.com/Path", "HTTPS://Example.com/Path"),
        ("", ""),
    ],
)
def test_addresses_people_type_are_kept_with_a_scheme(typed, kept, app):
    with app.test_request_context():
        assert normalize_website(typed) == (kept, None)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("javascript:alert(1)", "Start the address with http:// or https://."),
        ("ftp://example.com", "Start the address with http:// or https://."),
        ("mailto:a@example.com", "Start the address with http:// or https://."),
        ("user@example.com", "Start the address with http:// or https://."),
        ("localhost", "Start the address with http:// or https://."),
        ("example .com", "A web address has no spaces."),
        ("https://example.com/a b", "A web address has no spaces."),
    ],
)
def test_other_addresses_are_refused_with_a_message_naming_the_problem(typed, message, app):
    with app.test_request_context(), force_locale("en"):
        assert normalize_website(typed)[1] == message


def test_the_business_number_help_example_passes_its_own_check(app):
    """The company form's example was 123-45-67890, which its own check digit refuses."""
    import re

    from consultroom.companies.forms import CompanyForm
    from consultroom.companies.validation import business_number_ok

    with app.test_request_context():
        for locale in ("ko", "en"):
            with force_locale(locale):
                help_text = str(CompanyForm().business_number.description)
                example = re.search(r"\d{3}-\d{2}-\d{5}", help_text).group(0)
                assert business_number_ok(example), example
