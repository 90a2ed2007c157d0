"""The routing catalogue (派单目录): who leads, who co-handles, and the time limits, from TOML."""

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError, model_validator

DEFAULT_RULES_FILE = Path(__file__).parent / "rules" / "routing.toml"
COUNTY_PLACEHOLDER = "county"


class Limits(BaseModel):
    sign_working_days: int = Field(ge=0)
    sign_hours_urgent: int = Field(gt=0)
    complete_working_days: int = Field(gt=0)
    complete_hours_urgent: int = Field(gt=0)
    return_working_days: int = Field(ge=0)
    max_extensions: int = Field(ge=0)
    max_extension_working_days: int = Field(ge=0)


class Rule(BaseModel):
    category: str
    subtype: str | None = None
    lead: str
    co_handlers: list[str] = []
    rectification_months: int | None = None
    rectification_extension_months: int | None = None


class Category(BaseModel):
    name: str
    subtypes: dict[str, str]


class Catalogue(BaseModel):
    limits: Limits
    rules: list[Rule]
    categories: dict[str, Category]
    departments: dict[str, str]
    counties: dict[str, str]

    @model_validator(mode="after")
    def _consistent(self) -> "Catalogue":
        for rule in self.rules:
            if rule.category not in self.categories:
                raise ValueError(f"rule for unknown category {rule.category!r}")
            if rule.subtype and rule.subtype not in self.categories[rule.category].subtypes:
                raise ValueError(f"rule for unknown subtype {rule.category}/{rule.subtype}")
            for dept in [rule.lead, *rule.co_handlers]:
                if dept != COUNTY_PLACEHOLDER and dept not in self.departments:
                    raise ValueError(f"rule names unknown department {dept!r}")
        missing = set(self.categories) - {r.category for r in self.rules if r.subtype is None}
        if missing:
            raise ValueError(f"no routing rule for categories {sorted(missing)}")
        return self

    def rule_for(self, category: str, subtype: str | None = None) -> Rule:
        for rule in self.rules:
            if rule.category == category and rule.subtype == subtype and subtype is not None:
                return rule
        for rule in self.rules:
            if rule.category == category and rule.subtype is None:
                return rule
        raise KeyError(category)

    def department_name(self, code: str) -> str:
        if code.startswith("gov-"):
            county = self.counties.get(code.removeprefix("gov-"), code)
            return f"{county}人民政府"
        return self.departments.get(code, code)

    def all_department_codes(self) -> list[str]:
        return [*self.departments, *(f"gov-{c}" for c in self.counties)]


class CatalogueError(Exception):
    """The routing file is missing or invalid; the message says where."""


def load_catalogue(path: Path | None = None) -> Catalogue:
    path = path or DEFAULT_RULES_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return Catalogue.model_validate(data)
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise CatalogueError(f"routing rules {path}: {exc}") from exc


@lru_cache(maxsize=4)
def catalogue(path: Path | None = None) -> Catalogue:
    """The catalogue, loaded once per process (per file)."""
    return load_catalogue(path)


@dataclass(frozen=True)
class Route:
    lead: str
    co_handlers: list[str]


def route(category: str, subtype: str | None, county_code: str | None, cat: Catalogue | None = None) -> Route:
    """Lead department and co-handlers for a tip; the county government joins where the rule says so."""
    cat = cat or catalogue()
    rule = cat.rule_for(category, subtype)
    co: list[str] = []
    for dept in rule.co_handlers:
        if dept == COUNTY_PLACEHOLDER:
            if county_code and county_code in cat.counties:
                co.append(f"gov-{county_code}")
        elif dept != rule.lead:
            co.append(dept)
    return Route(lead=rule.lead, co_handlers=co)
