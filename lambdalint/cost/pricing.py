"""Price tables: one TOML file per AWS region under pricing/, loaded as exact decimals.

Prices are data (pricing/README.md describes the schema), so this module only reads and checks
them. A table that is wrong must fail loudly, naming the file and the key, because a silently
missing or mistyped price would turn into a confident but wrong monthly figure.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from ..data import data_dir
from ..errors import DataError, LambdalintError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SCHEMA_VERSION = 1
ARCHITECTURES = ("x86_64", "arm64")
CONFIDENCE_LEVELS = ("primary", "secondary", "derived", "unconfirmed")
# Region codes such as us-east-1, eu-central-2, us-gov-west-1; also keeps paths inside the directory.
REGION_CODE = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$")
_CITATION_KEYS = ("confidence", "source", "note")


class UnknownRegionError(LambdalintError):
    """The user asked for a region that has no price table."""


@dataclass(frozen=True)
class Price:
    """One unit price with its provenance, so output can say which figures are unconfirmed."""

    key: str
    value: Decimal
    confidence: str
    sources: tuple[str, ...]  # URLs
    note: str = ""

    @property
    def confirmed(self) -> bool:
        return self.confidence == "primary"


@dataclass(frozen=True)
class Tier:
    """A duration price that applies to the monthly GB-s below `up_to_gb_seconds` (None: no bound)."""

    up_to_gb_seconds: Decimal | None
    price: Price


@dataclass(frozen=True)
class FreeTier:
    requests: Decimal
    gb_seconds: Decimal


@dataclass(frozen=True)
class ProvisionedPrices:
    concurrency: Price  # per GB-s of configured concurrency while enabled
    duration: Price  # per GB-s of invocation duration served by provisioned environments


@dataclass(frozen=True)
class BillingRules:
    rounding_ms: int
    memory_min_mb: int
    memory_max_mb: int
    ephemeral_free_mb: int
    ephemeral_max_mb: int
    provisioned_rounding_seconds: int
    init_billed_since: date


@dataclass(frozen=True)
class PriceTable:
    """Everything the cost model needs to price one region, with where each number came from."""

    region: str
    location: str
    currency: str
    as_of: date
    verified_live: bool
    path: Path
    sources: Mapping[str, str]
    requests_per_million: Price
    duration: Mapping[str, tuple[Tier, ...]]
    free_tier: FreeTier
    ephemeral_storage: Price
    provisioned: Mapping[str, ProvisionedPrices]
    billing: BillingRules


def pricing_directory(directory: Path | str | None = None) -> Path:
    """The directory holding the tables: `directory` if given, else the shipped pricing/."""
    return Path(directory) if directory is not None else data_dir("pricing")


def available_regions(directory: Path | str | None = None) -> list[str]:
    """Region codes that have a table, sorted."""
    folder = pricing_directory(directory)
    if not folder.is_dir():
        raise DataError(f"pricing directory {folder} does not exist")
    return sorted(p.stem for p in folder.glob("*.toml") if REGION_CODE.match(p.stem))


def load_price_table(region: str, directory: Path | str | None = None) -> PriceTable:
    """Load and validate the table for `region` from `directory` (default: the shipped tables)."""
    folder = pricing_directory(directory)
    path = folder / f"{region}.toml"
    if not isinstance(region, str) or not REGION_CODE.match(region) or not path.is_file():
        known = ", ".join(available_regions(folder)) or "none"
        raise UnknownRegionError(
            f"no price table for region {region!r} in {folder} (available: {known})"
        )
    stat = path.stat()
    return _load_cached(path.resolve(), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _load_cached(path: Path, mtime_ns: int, size: int) -> PriceTable:
    # mtime and size are in the key so an edited table is read again.
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"pricing table {path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"pricing table {path}: invalid TOML: {exc}") from None
    return parse_price_table(data, path)


def parse_price_table(data: Mapping[str, Any], path: Path) -> PriceTable:
    """Validate a parsed table; every problem is a DataError naming `path` and the key."""
    root = _Reader(path, data)
    root.check_keys(required=("meta", "requests", "duration", "free_tier", "ephemeral_storage",
                              "provisioned_concurrency", "billing"))
    meta = root.table("meta")
    meta.check_keys(required=("schema", "region", "location", "currency", "as_of", "sources"),
                    optional=("verified_live",))
    if meta.integer("schema", minimum=1) != SCHEMA_VERSION:
        raise meta.fail("schema", f"this lambdalint reads schema {SCHEMA_VERSION}")
    region = _region(meta, path)
    if meta.string("currency") != "USD":
        raise meta.fail("currency", "only USD tables are supported")
    sources = _sources(meta.table("sources"))
    root = _Reader(path, data, sources=sources)  # now citations can be resolved to URLs
    return PriceTable(
        region=region,
        location=meta.string("location"),
        currency="USD",
        as_of=meta.date("as_of"),
        verified_live=meta.boolean("verified_live", default=False),
        path=path,
        sources=sources,
        requests_per_million=_single_price(root.table("requests"), "usd_per_million"),
        duration=_per_arch(root.table("duration"), _tiers),
        free_tier=_free_tier(root.table("free_tier")),
        ephemeral_storage=_single_price(root.table("ephemeral_storage"), "usd_per_gb_second"),
        provisioned=_per_arch(root.table("provisioned_concurrency"), _provisioned),
        billing=_billing(root.table("billing")),
    )


def _region(meta: _Reader, path: Path) -> str:
    region = meta.string("region")
    if not REGION_CODE.match(region):
        raise meta.fail("region", f"{region!r} is not an AWS region code")
    if region != path.stem:
        raise meta.fail("region", f"{region!r} does not match the file name {path.name}")
    return region


def _sources(table: _Reader) -> dict[str, str]:
    urls = {}
    for source_id in table.data:
        entry = table.table(source_id)
        entry.check_keys(required=("url",), optional=("title",))
        url = entry.string("url")
        if not url.startswith(("https://", "http://")):
            raise entry.fail("url", f"{url!r} is not an http(s) URL")
        urls[source_id] = url
    if not urls:
        raise table.fail("", "at least one source is required")
    return urls


def _single_price(table: _Reader, key: str) -> Price:
    table.check_keys(required=(key,) + _CITATION_KEYS[:2], optional=_CITATION_KEYS[2:])
    return table.price(key)


def _per_arch(table: _Reader, parse: Any) -> dict[str, Any]:
    for arch in table.data:
        if arch not in ARCHITECTURES:
            raise table.fail(arch, f"unknown architecture (expected one of {', '.join(ARCHITECTURES)})")
    table.check_keys(required=ARCHITECTURES)
    return {arch: parse(table.table(arch)) for arch in ARCHITECTURES}


def _tiers(table: _Reader) -> tuple[Tier, ...]:
    table.check_keys(required=("tiers",))
    entries = table.list_of_tables("tiers")
    tiers: list[Tier] = []
    for index, entry in enumerate(entries):
        last = index == len(entries) - 1
        bound_keys = () if last else ("up_to_gb_seconds",)
        entry.check_keys(required=bound_keys + ("usd_per_gb_second",) + _CITATION_KEYS[:2],
                         optional=_CITATION_KEYS[2:],
                         why_unknown="the last tier has no upper bound" if last else "")
        bound = None if last else entry.decimal("up_to_gb_seconds")
        previous = tiers[-1].up_to_gb_seconds if tiers else Decimal(0)
        if bound is not None and bound <= previous:
            raise entry.fail("up_to_gb_seconds", f"{bound} must be above the previous bound {previous}")
        tiers.append(Tier(bound, entry.price("usd_per_gb_second")))
    return tuple(tiers)


def _provisioned(table: _Reader) -> ProvisionedPrices:
    table.check_keys(required=("usd_per_gb_second", "duration_usd_per_gb_second") + _CITATION_KEYS[:2],
                     optional=_CITATION_KEYS[2:])
    return ProvisionedPrices(table.price("usd_per_gb_second"), table.price("duration_usd_per_gb_second"))


def _free_tier(table: _Reader) -> FreeTier:
    table.check_keys(required=("requests", "gb_seconds") + _CITATION_KEYS[:2], optional=_CITATION_KEYS[2:])
    table.citation()
    return FreeTier(requests=table.decimal("requests"), gb_seconds=table.decimal("gb_seconds"))


def _billing(table: _Reader) -> BillingRules:
    ints = ("rounding_ms", "memory_min_mb", "memory_max_mb", "ephemeral_free_mb", "ephemeral_max_mb",
            "provisioned_rounding_seconds")
    table.check_keys(required=ints + ("init_billed_since",) + _CITATION_KEYS[:2], optional=_CITATION_KEYS[2:])
    table.citation()
    values = {key: table.integer(key, minimum=1) for key in ints}
    for low, high in (("memory_min_mb", "memory_max_mb"), ("ephemeral_free_mb", "ephemeral_max_mb")):
        if values[low] > values[high]:
            raise table.fail(high, f"{values[high]} is below {low} = {values[low]}")
    return BillingRules(init_billed_since=table.date("init_billed_since"), **values)


class _Reader:
    """A table inside a price file, with typed getters whose errors name the file and dotted key."""

    def __init__(self, path: Path, data: Any, prefix: str = "", sources: Mapping[str, str] | None = None):
        self.path = path
        self.data = data
        self.prefix = prefix
        self.sources = sources

    def fail(self, key: str, problem: str) -> DataError:
        where = f"{self.prefix}{key}".rstrip(".") or "(top level)"
        return DataError(f"pricing table {self.path}: {where}: {problem}")

    def check_keys(self, required: tuple[str, ...] = (), optional: tuple[str, ...] = (),
                   why_unknown: str = "") -> None:
        for key in required:
            if key not in self.data:
                raise self.fail(key, "missing")
        for key in self.data:
            if key not in required and key not in optional:
                raise self.fail(key, why_unknown or "unknown key (see pricing/README.md for the schema)")

    def _get(self, key: str) -> Any:
        if key not in self.data:
            raise self.fail(key, "missing")
        return self.data[key]

    def table(self, key: str) -> _Reader:
        value = self._get(key)
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a table, got {type(value).__name__}")
        return _Reader(self.path, value, f"{self.prefix}{key}.", self.sources)

    def list_of_tables(self, key: str) -> list[_Reader]:
        value = self._get(key)
        if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
            raise self.fail(key, "must be a non-empty array of tables ([[...]] entries)")
        return [_Reader(self.path, v, f"{self.prefix}{key}[{i}].", self.sources) for i, v in enumerate(value)]

    def string(self, key: str) -> str:
        value = self._get(key)
        if not isinstance(value, str) or not value:
            raise self.fail(key, f"must be a non-empty string, got {value!r}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, got {value!r}")
        return value

    def date(self, key: str) -> date:
        value = self._get(key)
        if not isinstance(value, date) or hasattr(value, "hour"):
            raise self.fail(key, f"must be a TOML date such as 2026-01-31, got {value!r}")
        return value

    def integer(self, key: str, minimum: int = 0) -> int:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(key, f"must be an integer >= {minimum}, got {value!r}")
        return value

    def decimal(self, key: str) -> Decimal:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
            raise self.fail(key, f"must be a decimal number written as a string, got {value!r}")
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise self.fail(key, f"{value!r} is not a decimal number") from None
        if not number.is_finite():
            raise self.fail(key, f"{value!r} is not a finite number")
        if number < 0:
            raise self.fail(key, f"{value} is negative")
        return number

    def citation(self) -> tuple[str, tuple[str, ...], str]:
        confidence = self.string("confidence")
        if confidence not in CONFIDENCE_LEVELS:
            raise self.fail("confidence", f"{confidence!r} is not one of {', '.join(CONFIDENCE_LEVELS)}")
        ids = self._get("source")
        ids = [ids] if isinstance(ids, str) else ids
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise self.fail("source", "must be a source id or a list of ids from [meta.sources]")
        for source_id in ids:
            if source_id not in (self.sources or {}):
                raise self.fail("source", f"{source_id!r} is not defined in [meta.sources]")
        note = self.data.get("note", "")
        if not isinstance(note, str):
            raise self.fail("note", f"must be a string, got {note!r}")
        return confidence, tuple(self.sources[i] for i in ids), note  # type: ignore[index]

    def price(self, key: str) -> Price:
        value = self.decimal(key)
        confidence, sources, note = self.citation()
        return Price(f"{self.prefix}{key}", value, confidence, sources, note)
