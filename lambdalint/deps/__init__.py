"""Dependencies and package size (LAM4xx): what a function ships, and what importing it costs.

The engine's entry points are `find_requirement_files` (which manifests describe a handler's
function) and `check_requirements` (LAM401-LAM407 for one of them); `resolve_shipment` sizes
what a manifest ships and `measure_import_time` times a handler's import.
"""

from .checks import (
    DepsOptions,
    Shipment,
    check_requirements,
    deps_options_from_config,
    find_requirement_files,
    import_names,
    resolve_shipment,
)
from .importtime import ImportTimeReport, measure_import_time

__all__ = [
    "DepsOptions",
    "ImportTimeReport",
    "Shipment",
    "check_requirements",
    "deps_options_from_config",
    "find_requirement_files",
    "import_names",
    "measure_import_time",
    "resolve_shipment",
]
