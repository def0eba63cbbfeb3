"""Dependencies and package size (LAM4xx): what a function ships, and what importing it costs.

The engine's entry points are `find_requirement_files` (which manifests describe a handler's
function) and `check_requirements` (LAM401-LAM407 for one of them); `resolve_shipment` sizes
what a manifest ships and `measure_import_time` times a handler's import.
"""

from __future__ import annotations

import importlib

# Loaded when first used (PEP 562): `lambdalint check` imports this package to look for
# manifests, and most trees it checks have none.
_WHERE = {
    "DepsOptions": ".checks",
    "Shipment": ".checks",
    "check_requirements": ".checks",
    "deps_options_from_config": ".checks",
    "find_requirement_files": ".checks",
    "import_names": ".checks",
    "resolve_shipment": ".checks",
    "ImportTimeReport": ".importtime",
    "measure_import_time": ".importtime",
}


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name], __name__), name)
    globals()[name] = value
    return value


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
