"""The shared schema fields (consultroom/schema_fields.py) and the entity schemas built on them."""

from datetime import time

import pytest
from flask_babel import force_locale

from consultroom import schema_fields as sf
from consultroom.buyers.schemas import BuyerIn, BuyerOut, load_buyer
from consultroom.companies.schemas import CompanyIn, CompanyOut, load_company
from consultroom.errors import Invalid
from consultroom.interpreters.schemas import InterpreterIn, load_interpreter


@pytest.fixture(autouse=True)
def _english():
    with force_locale("en"):
        yield


def _errors(load, data, **kwargs) -> dict[str, list[str]]:
    with pytest.raises(Invalid) as caught:
        load(data, **kwargs)
    return caught.value.fields


def test_text_none_is_blank_and_spaces_are_trimmed_or_collapsed():
    clean = load_buyer({"company_name": "  Sunrise   Inc. ", "country": "JP", "email": "a@b.example", "notes": None})
    assert clean["company_name"] == "Sunrise Inc."  # collapsed
    assert clean["notes"] == ""
    assert clean["contact_name"] == ""  # left out of a create: blank


def test_every_bad_field_is_named_at_once_with_one_wording_per_rule():
    errors = _errors(
        load_company,
        {"business_number": "220-81-62518", "name_ko": 12, "name_en": "x" * 201, "founded": 1999, "hs_codes": [1]},
    )
    assert errors == {
        "business_number": ["Not a valid business registration number (10 digits with a correct check digit)."],
        "name_ko": ["Must be text."],
        "name_en": ["Use at most 200 characters."],
        "representative": ["This field is required."],
        "hs_codes": ["Must be a list of codes."],
        "founded": ["Unknown field."],
    }


def test_partial_load_checks_and_returns_only_the_fields_given():
    assert load_company({"name_en": None}, partial=True) == {"name_en": ""}
    assert load_interpreter({}, partial=True) == {}


def test_code_lists_take_a_string_or_a_list_and_name_bad_entries_normalised():
    assert load_company({"hs_codes": "3304.99, 330499 210390"}, partial=True) == {"hs_codes": ["330499", "210390"]}
    assert _errors(load_company, {"export_markets": ["us", "xx"]}, partial=True) == {
        "export_markets": ["Not an ISO 3166 country code: XX"]
    }
    assert _errors(load_company, {"languages": ["ko"] * 31}, partial=True) == {"languages": ["At most 30 entries."]}


def test_buyer_time_zone_is_inferred_or_asked_for():
    base = {"company_name": "A", "email": "a@b.example"}
    assert load_buyer({**base, "country": "일본"})["timezone"] == "Asia/Tokyo"
    assert _errors(load_buyer, {**base, "country": "US"}) == {
        "timezone": ["Choose the buyer's time zone (it cannot be told from the country)."]
    }
    # A refused country is reported alone: the zone cannot be told from it.
    assert _errors(load_buyer, {**base, "country": "Atlantis"}) == {"country": ["Not a known country: Atlantis"]}


def test_buyer_hours_and_days_with_their_defaults():
    base = {"company_name": "A", "email": "a@b.example", "country": "JP"}
    clean = load_buyer({**base, "meet_from": "오후 1시", "meet_to": None, "meet_days": "월~수"})
    assert (clean["meet_from"], clean["meet_to"], clean["meet_days"]) == (time(13), time(18), [0, 1, 2])
    assert _errors(load_buyer, {**base, "meet_from": "18:00", "meet_days": []}) == {
        "meet_days": ["Choose at least one day."],
        "meet_to": ["The meeting hours must not start and end at the same time."],
    }


def test_interpreter_languages_required_without_korean():
    assert _errors(load_interpreter, {"languages": None}, partial=True) == {
        "languages": ["Choose at least one language the interpreter works in with Korean."]
    }
    assert _errors(load_interpreter, {"languages": "English, 한국어"}, partial=True) == {
        "languages": ["Leave Korean out: every language listed is interpreted to and from Korean."]
    }
    assert load_interpreter({"languages": "English, japanese"}, partial=True) == {"languages": ["en", "ja"]}


@pytest.mark.parametrize("schema", [CompanyIn, BuyerIn, InterpreterIn])
def test_every_input_field_has_a_label_and_an_api_description(schema):
    for name, field in schema._declared_fields.items():
        assert field.metadata.get("label"), name
        if name != "locale":  # its enum says it all
            assert field.metadata.get("description"), name


def test_json_schema_from_the_schemas_marks_personal_data_and_limits():
    company_in = sf.json_schema(CompanyIn())
    assert company_in["additionalProperties"] is False
    assert company_in["required"] == ["business_number", "name_ko", "representative"]
    assert company_in["properties"]["contact_email"]["x-personal-data"] is True
    assert company_in["properties"]["name_ko"]["maxLength"] == 200
    assert "x-personal-data" not in company_in["properties"]["name_ko"]
    assert "label" not in company_in["properties"]["name_ko"]  # a form's words are not the API's

    buyer_out = sf.json_schema(BuyerOut(), output=True)
    assert buyer_out["required"] == sorted(buyer_out["properties"])
    assert buyer_out["properties"]["email"] == {
        "type": "string",
        "description": "Contact e-mail address (unique in the registry).",
        "x-personal-data": True,
    }
    assert "default" not in str(sf.json_schema(CompanyIn(partial=True)))
    assert set(sf.json_schema(CompanyOut(), output=True)["properties"]) >= {"missing_english", "created_at"}
