"""SME companies with their HS codes, markets and languages; `owned` adds a member to log in as."""

from __future__ import annotations

import itertools

import factory

from consultroom.accounts.models import User
from consultroom.companies.models import Company, CompanyCountry, CompanyHsCode, CompanyLanguage
from consultroom.companies.validation import business_number_with_check_digit
from tests.factories.accounts import UserFactory
from tests.factories.base import BaseFactory

_numbers = itertools.count(1)


def valid_business_number(n: int | None = None) -> str:
    n = next(_numbers) if n is None else n
    return business_number_with_check_digit(f"{100 + n % 800:03d}81{n % 10000:04d}")


class CompanyFactory(BaseFactory):
    class Meta:
        model = Company

    class Params:
        hs_codes = ("330499",)
        export_markets = ("CN",)
        target_countries = ("US",)
        languages = ("ko", "en")
        owned = factory.Trait(member=factory.RelatedFactory(UserFactory, factory_related_name="company"))

    name_ko = factory.Sequence(lambda n: f"테스트기업{n}")
    name_en = factory.Sequence(lambda n: f"Test Company {n}")
    business_number = factory.Sequence(valid_business_number)
    representative = "홍길동"
    industry = "화장품"
    products = "기초화장품"
    hs_code_rows = factory.LazyAttribute(lambda o: [CompanyHsCode(code=c) for c in o.hs_codes])
    country_rows = factory.LazyAttribute(
        lambda o: (
            [CompanyCountry(kind="export", code=c) for c in o.export_markets]
            + [CompanyCountry(kind="target", code=c) for c in o.target_countries]
        )
    )
    language_rows = factory.LazyAttribute(lambda o: [CompanyLanguage(code=c) for c in o.languages])

    @factory.post_generation
    def owner(company, create, extracted: User | None, **kwargs):
        """An existing user who becomes the company's member."""
        if extracted is not None:
            extracted.company_id = company.id
            return extracted  # a result: BaseFactory flushes again
        return None


def make_company(**fields) -> Company:
    """A company; `owner=user` links an existing user to it; fields as CompanyFactory takes them."""
    return CompanyFactory(**fields)


def make_sme_with_company(**company_fields) -> tuple[User, Company]:
    user = UserFactory(role="sme")
    return user, CompanyFactory(owner=user, **company_fields)
