"""What the report pages call the figures, in the viewer's language: metric and section names, the
breakdowns' titles and each group's label."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from consultroom.reports.models import Metric
from consultroom.reports.queries import UNKNOWN

SECTION_NAMES = {
    "I": _l("Live animals; animal products"),
    "II": _l("Vegetable products"),
    "III": _l("Animal or vegetable fats and oils"),
    "IV": _l("Prepared foodstuffs, beverages and tobacco"),
    "V": _l("Mineral products"),
    "VI": _l("Chemical products"),
    "VII": _l("Plastics and rubber"),
    "VIII": _l("Hides, skins, leather and furs"),
    "IX": _l("Wood, cork and basketware"),
    "X": _l("Pulp, paper and printed matter"),
    "XI": _l("Textiles"),
    "XII": _l("Footwear, headgear and umbrellas"),
    "XIII": _l("Stone, ceramics and glass"),
    "XIV": _l("Pearls, precious stones and metals"),
    "XV": _l("Base metals"),
    "XVI": _l("Machinery and electrical equipment"),
    "XVII": _l("Vehicles, aircraft and vessels"),
    "XVIII": _l("Optical, medical and precision instruments"),
    "XIX": _l("Arms and ammunition"),
    "XX": _l("Miscellaneous manufactured articles"),
    "XXI": _l("Works of art and antiques"),
}
METRIC_LABELS = {
    Metric.CONSULTATIONS.value: _l("Consultations held"),
    Metric.CONTRACTS.value: _l("Consultations with a contract"),
    Metric.CONTRACT_VALUE_KRW.value: _l("Contract value (KRW)"),
    Metric.SMES.value: _l("Participating SMEs"),
    Metric.SATISFACTION.value: _l("Average satisfaction (1-5)"),
}


def breakdown_title(kind: str) -> str:
    return {
        "month": _("By month"),
        "country": _("By buyer country"),
        "industry": _("By industry (HS section)"),
        "language": _("By buyer language"),
    }[kind]


def group_label(kind: str, key: str, locale: str) -> str:
    from consultroom.companies.validation import country_name, language_name

    if key == UNKNOWN:
        return _("Not known")
    if kind == "country":
        return country_name(key, locale)
    if kind == "language":
        return language_name(key, locale)
    if kind == "industry":
        return f"{key}. {SECTION_NAMES[key]}"
    return key


def metric_label(metric: str) -> str:
    return str(METRIC_LABELS[metric])
