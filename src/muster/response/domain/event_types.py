"""The GB/T 35561-2017 emergency type tree (突发事件分类与编码), as data.

Pure (stdlib only). Five characters: ``1`` = root, digit 2 = category, a letter =
sub-category, two digits = item; trailing zeros cover a whole branch. The roots and
the flood items follow the standard (glossary §2); the other sub-category codes are
the sample the example plans use and must be checked against the published standard
before production use (the glossary marks them ⚠).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EventType:
    """One node of the tree."""

    code: str
    name_zh: str
    name_en: str

    @property
    def category_digit(self) -> str:
        """Return the category digit ("1" natural … "4" social security)."""
        return self.code[1]

    def name(self, language: str) -> str:
        """Return the name in a language (zh-CN or en)."""
        return self.name_zh if language.startswith("zh") else self.name_en


EVENT_TYPES: tuple[EventType, ...] = (
    EventType("11000", "自然灾害", "Natural disaster"),
    EventType("11A00", "水旱灾害", "Flood and drought"),
    EventType("11A03", "水库重大险情", "Major reservoir danger"),
    EventType("11A04", "堤防重大险情", "Major levee danger"),
    EventType("11A05", "凌汛灾害", "Ice-jam flood"),
    EventType("11A51", "山洪灾害事件", "Flash flood"),
    EventType("11B00", "气象灾害", "Meteorological disaster"),
    EventType("11C00", "地震灾害", "Earthquake"),
    EventType("11D00", "地质灾害", "Geological disaster"),
    EventType("11E00", "海洋灾害", "Marine disaster"),
    EventType("11F00", "生物灾害", "Biological disaster"),
    EventType("11G00", "森林草原火灾", "Forest and grassland fire"),
    EventType("12000", "事故灾难", "Accident disaster"),
    EventType("12A00", "生产安全事故", "Work-safety accident"),
    EventType("12B00", "交通运输事故", "Transport accident"),
    EventType("12C00", "公共设施和设备事故", "Public facility and equipment accident"),
    EventType("12D00", "核与辐射事故", "Nuclear and radiation accident"),
    EventType("12G00", "环境污染和生态破坏事件", "Environmental pollution"),
    EventType("13000", "公共卫生事件", "Public-health event"),
    EventType("13A00", "传染病疫情", "Infectious disease outbreak"),
    EventType("13B00", "群体性不明原因疾病", "Cluster of unexplained illness"),
    EventType("13C00", "食品安全事件", "Food safety incident"),
    EventType("13D00", "职业危害", "Occupational hazard"),
    EventType("13E00", "动物疫情", "Animal epidemic"),
    EventType("14000", "社会安全事件", "Social-security event"),
    EventType("14A00", "恐怖袭击事件", "Terrorist attack"),
    EventType("14B00", "刑事案件", "Major criminal case"),
    EventType("14C00", "群体性事件", "Mass incident"),
    EventType("14D00", "经济安全事件", "Economic security incident"),
    EventType("14E00", "涉外突发事件", "Foreign-related emergency"),
    EventType("14F00", "网络与信息安全事件", "Cyber and information security incident"),
)
CATEGORY_DIGITS = {
    "NATURAL_DISASTER": "1",
    "ACCIDENT_DISASTER": "2",
    "PUBLIC_HEALTH": "3",
    "SOCIAL_SECURITY": "4",
}


def types_of_category(category: str) -> list[EventType]:
    """Return the tree's types within a category (by its name, e.g. PUBLIC_HEALTH)."""
    digit = CATEGORY_DIGITS.get(category)
    return [item for item in EVENT_TYPES if item.category_digit == digit]


def event_type(code: str | None) -> EventType | None:
    """Return a known type by code, or None."""
    return next((item for item in EVENT_TYPES if item.code == code), None)


__all__ = [
    "CATEGORY_DIGITS",
    "EVENT_TYPES",
    "EventType",
    "event_type",
    "types_of_category",
]
