"""Render the rule reference (docs/rules.md) from the rule data in rules/, so the documentation
cannot drift from what `lambdalint rule CODE` prints."""

from __future__ import annotations

from .catalog import RuleInfo, all_rules

FAMILIES = {
    "1": "Global mutable state", "2": "Idempotency", "3": "Timeout risk",
    "4": "Dependencies and package size", "5": "Cold start and init cost",
    "6": "Runtime configuration", "7": "Security", "9": "lambdalint's own errors",
}


def rule_markdown(info: RuleInfo) -> str:
    lines = [f"### {info.code} `{info.name}`", "",
             f"*{info.severity.value}{'' if info.default_enabled else ', opt-in'}* — {info.summary}", ""]
    if info.rationale:
        lines += ["**Why is this bad?** " + info.rationale, ""]
    if info.bad:
        lines += ["**Example**", "", "```python", info.bad, "```", ""]
    if info.good:
        lines += ["**Use instead**", "", "```python", info.good, "```", ""]
    if info.fix:
        lines += ["**What to do:** " + info.fix, ""]
    if info.known_problems:
        lines += ["**Known problems:** " + info.known_problems, ""]
    if info.references:
        lines += ["**References:** " + ", ".join(info.references), ""]
    lines += [f"Suppress with `# noqa: {info.code}`.", ""]
    return "\n".join(lines)


def reference() -> str:
    rules = all_rules()
    out = ["# Rule reference", "",
           "Generated from `rules/lam*.toml` by `python -m lambdalint.docs > docs/rules.md`.", "",
           "| code | name | severity | summary |", "|---|---|---|---|"]
    out += [f"| [{r.code}](#{r.code.lower()}-{r.name}) | `{r.name}` | {r.severity.value}{'' if r.default_enabled else ' (opt-in)'} | {r.summary} |"
            for r in rules.values()]
    family = None
    for info in rules.values():
        if info.code[3] != family:
            family = info.code[3]
            out += ["", f"## LAM{family}xx — {FAMILIES.get(family, 'Other')}", ""]
        out.append(rule_markdown(info))
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(reference(), end="")
