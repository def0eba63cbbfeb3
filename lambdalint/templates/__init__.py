"""Infrastructure templates: what AWS SAM / CloudFormation templates and serverless.yml say
about each Lambda function (handler, runtime, memory, timeout, architecture, layers, event
sources), and the LAM6xx rules on that configuration.

Public API:

- `find_templates(paths) -> list[Path]`
- `load_functions(paths) -> (list[FunctionConfig], list[Finding])`: LAM600 for unreadable files
- `template_findings(functions, today=None) -> list[Finding]`: LAM601-LAM606
- `handlers_for_check(paths, root, config=None, enabled=None) -> (list[Handler], list[Finding])`
  for `lambdalint check`
- `FunctionConfig`, `EventSource`, `QueueInfo`
"""

from .discover import find_templates, handlers, handlers_for_check, load_functions, read_template
from .model import EventSource, FunctionConfig, QueueInfo
from .rules import filter_findings, template_findings

__all__ = [
    "EventSource",
    "FunctionConfig",
    "QueueInfo",
    "filter_findings",
    "find_templates",
    "handlers",
    "handlers_for_check",
    "load_functions",
    "read_template",
    "template_findings",
]
