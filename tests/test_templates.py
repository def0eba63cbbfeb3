"""Templates: SAM / CloudFormation / serverless.yml reading, the LAM6xx rules, and the handlers
the templates give the engine (the SQS-vs-API idempotency difference)."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from pathlib import Path

import pytest

from lambdalint.catalog import all_rules
from lambdalint.config import Config
from lambdalint.engine.runner import Checker
from lambdalint.selection import enabled_codes
from lambdalint.templates import find_templates, handlers, handlers_for_check, load_functions, template_findings
from lambdalint.templates.loader import Intrinsic, TDict, TemplateSyntaxError, load
from lambdalint.templates.rules import runtimes
from lambdalint.templates.sam import UNKNOWN, ResourceRef, Resolver
from lambdalint.testing import expectations

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "templates"
TODAY = dt.date(2026, 11, 23)


def write(directory: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return directory


def functions_of(directory: Path) -> dict:
    functions, problems = load_functions([directory])
    assert problems == []
    return {f.name: f for f in functions}


# -- the YAML loader ----------------------------------------------------------------------

def test_every_short_form_intrinsic_becomes_an_intrinsic_without_running_anything():
    doc = load(textwrap.dedent("""
        A: !Ref Param
        B: !GetAtt Queue.Arn
        C: !Sub "arn:${AWS::Partition}:s3:::${Bucket}/*"
        D: !Join [":", [a, b]]
        E: !Select [0, !GetAZs ""]
        F: !If [IsProd, 1024, 512]
        G: !FindInMap [Sizes, !Ref Env, memory]
        H: !Base64 {"Fn::Sub": "x"}
        I: !ImportValue shared-queue
        J: !Split [",", "a,b"]
        K: !Equals [!Ref Env, prod]
        L: !Not [!Condition IsProd]
        M: !And [!Condition IsProd, !Condition IsBig]
        N: !Or [!Condition IsProd, !Condition IsBig]
        O: !Cidr ["10.0.0.0/16", 4, 8]
        P: !GetAZs us-east-1
        Q: !Transform {Name: AWS::Include, Parameters: {Location: s3://x}}
        R: !Length [1, 2]
        S: !ToJsonString {a: 1}
        T: !python/object/apply:os.system ["echo pwned"]
    """))
    functions = {key: value.function for key, value in doc.items()}
    assert functions["A"] == "Ref" and functions["B"] == "Fn::GetAtt" and functions["L"] == "Fn::Not"
    assert all(isinstance(v, Intrinsic) for v in doc.values())
    assert doc["T"].function == "Fn::python/object/apply:os.system"  # a tag like any other: never executed
    assert doc["D"].argument == [":", ["a", "b"]]
    assert isinstance(doc["L"].argument[0], Intrinsic) and doc["L"].argument[0].function == "Condition"
    assert doc["H"].argument.function == "Fn::Sub"  # long form inside short form


def test_lines_and_long_form_json():
    doc = load('{\n  "Resources": {\n    "Fn": {"Type": "AWS::Lambda::Function",\n'
               '      "Properties": {"Timeout": {"Ref": "T"}, "Role": {"Fn::GetAtt": ["R", "Arn"]}}}}}')
    props = doc["Resources"]["Fn"]["Properties"]
    assert isinstance(props, TDict) and props.line_of("Timeout") == 4
    assert props["Timeout"] == Intrinsic("Ref", "T", props["Timeout"].line)
    assert props["Role"].function == "Fn::GetAtt"


def test_json_with_tabs_still_reads():
    doc = load('{\n\t"Resources": {\n\t\t"Q": {"Type": "AWS::SQS::Queue"}\n\t}\n}')
    assert doc["Resources"]["Q"]["Type"] == "AWS::SQS::Queue"


def test_anchors_merge_keys_and_alias_bombs():
    doc = load("base: &b {MemorySize: 256, Timeout: 10}\nfn:\n  <<: *b\n  Timeout: 30\n")
    assert doc["fn"] == {"MemorySize": 256, "Timeout": 30}
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))
    load(bomb)  # 9^9 leaves if expanded: shared, so instant


@pytest.mark.parametrize("text, line", [("a: [1, 2\nb: 3\n", 2), ("a: 1\n  b: 2\n", 2), ("x: 1\n---\ny: 2\n", 2)])
def test_syntax_errors_carry_a_line(text, line):
    with pytest.raises(TemplateSyntaxError) as info:
        load(text)
    assert info.value.line == line


# -- intrinsic resolution -----------------------------------------------------------------

def test_resolver_uses_parameter_defaults_mappings_and_conditions():
    doc = load(textwrap.dedent("""
        Parameters:
          Env: {Type: String, Default: prod}
          Seconds: {Type: Number, Default: "45"}
          NoDefault: {Type: String}
        Mappings:
          Sizes: {prod: {memory: 2048}, dev: {memory: 256}}
        Conditions:
          IsProd: !Equals [!Ref Env, prod]
          NotProd: !Not [!Condition IsProd]
        Resources:
          Queue: {Type: AWS::SQS::Queue}
        Values:
          - !Ref Seconds
          - !FindInMap [Sizes, !Ref Env, memory]
          - !If [IsProd, 900, 30]
          - !If [NotProd, 900, 30]
          - !Sub "orders-${Env}-${!Literal}"
          - !Sub ["${Name}-q", {Name: !Ref Env}]
          - !Join ["-", [a, !Ref Env]]
          - !Select [1, [x, !Ref Seconds]]
          - !GetAtt Queue.Arn
          - !Ref Queue
          - !Ref AWS::Region
          - !Ref NoDefault
          - !Sub "${AWS::StackName}-x"
          - !If [Unknown, 5, 5]
          - !ImportValue other
    """))
    resolver = Resolver(doc)
    got = [resolver.value(v) for v in doc["Values"]]
    assert got[:8] == [45, 2048, 900, 30, "orders-prod-${Literal}", "prod-q", "a-prod", 45]
    assert got[8] == ResourceRef("Queue", "Arn") and got[9] == ResourceRef("Queue")
    assert got[10:13] == [UNKNOWN, UNKNOWN, UNKNOWN]
    assert got[13] == 5  # an unknown condition whose branches agree
    assert got[14] is UNKNOWN  # imports need AWS


# -- SAM ----------------------------------------------------------------------------------

SAM = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Memory: {Type: Number, Default: 768}
  Timeout: {Type: Number}
Globals:
  Function:
    Runtime: python3.12
    CodeUri: src/
    MemorySize: !Ref Memory
    Timeout: 20
    Layers: [arn:aws:lambda:us-east-1:123456789012:layer:common:3]
    Architectures: [arm64]
Resources:
  Inherits:
    Type: AWS::Serverless::Function
    Properties:
      Handler: pkg/app.lambda_handler
  Overrides:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: other/
      Handler: pkg.app.lambda_handler
      Runtime: python3.13
      MemorySize: 2048
      Timeout: !Ref Timeout
      Architectures: [x86_64]
      Layers: [!Ref SharedLayer]
      EphemeralStorage: {Size: 4096}
  Package:
    Type: AWS::Serverless::Function
    Properties:
      Handler: pkg.handler
  Image:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
      ImageUri: 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:latest
  SharedLayer:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: layer/}
"""


def test_sam_globals_inheritance_and_codeuri(tmp_path):
    write(tmp_path, {"template.yaml": SAM, "src/pkg/app.py": "def lambda_handler(e, c): pass\n",
                     "other/pkg/app.py": "def lambda_handler(e, c): pass\n",
                     "src/pkg/__init__.py": "def handler(e, c): pass\n"})
    fns = functions_of(tmp_path)
    inherits, overrides = fns["Inherits"], fns["Overrides"]
    assert (inherits.runtime, inherits.memory, inherits.timeout, inherits.arch) == ("python3.12", 768, 20, "arm64")
    assert inherits.handler_path == (tmp_path / "src/pkg/app.py").resolve()
    assert inherits.handler_function == "lambda_handler"
    assert inherits.lines["memory"] == 10 and inherits.lines["runtime"] == 8  # the Globals lines
    assert inherits.ephemeral_storage == 512 and "ephemeral_storage" in inherits.defaulted
    assert (overrides.runtime, overrides.memory, overrides.arch, overrides.ephemeral_storage) == ("python3.13", 2048, "x86_64", 4096)
    assert overrides.timeout is None and "timeout" in overrides.unknown  # parameter without default
    assert overrides.handler_path == (tmp_path / "other/pkg/app.py").resolve()
    assert overrides.layers == ("arn:aws:lambda:us-east-1:123456789012:layer:common:3", "!Ref SharedLayer")  # appended
    assert fns["Package"].handler_path == (tmp_path / "src/pkg/__init__.py").resolve()
    assert fns["Image"].to_handler() is None and "SharedLayer" not in fns
    assert inherits.at_least_once is None  # no events: the code decides


def test_sam_events_classify_at_least_once(tmp_path):
    events = {"SQS": True, "SNS": True, "S3": True, "EventBridgeRule": True, "CloudWatchEvent": True,
              "Schedule": True, "Kinesis": True, "DynamoDB": True, "MSK": True, "MQ": True,
              "Api": False, "HttpApi": False}
    resources = "".join(f"""
  {kind}Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Events:
        E: {{Type: {kind}}}
""" for kind in events)
    write(tmp_path, {"template.yaml": "Transform: AWS::Serverless-2016-10-31\nGlobals: {Function: {Runtime: python3.13}}\nResources:" + resources,
                     "app.py": "def handler(e, c): pass\n"})
    fns = functions_of(tmp_path)
    assert {kind: fns[f"{kind}Fn"].at_least_once for kind in events} == events
    mixed = write(tmp_path / "mixed", {"template.yaml": """
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              Handler: app.handler
              Runtime: python3.13
              FunctionUrlConfig: {AuthType: NONE}
              Events:
                Api: {Type: Api}
                Async: {Type: SNS}
    """})
    assert functions_of(mixed)["Fn"].at_least_once is True  # any at-least-once source wins


def test_cloudformation_resources_that_trigger_a_function(tmp_path):
    write(tmp_path, {"template.yaml": """
        AWSTemplateFormatVersion: "2010-09-09"
        Resources:
          Consumer:
            Type: AWS::Lambda::Function
            Properties:
              FunctionName: orders-consumer
              Code: code/
              Handler: app.handler
              Runtime: python3.12
              Timeout: 60
          Mapping:
            Type: AWS::Lambda::EventSourceMapping
            Properties:
              FunctionName: !Ref Consumer
              EventSourceArn: !GetAtt Queue.Arn
          Queue:
            Type: AWS::SQS::Queue
          ByName:
            Type: AWS::Lambda::Function
            Properties: {Code: code/, Handler: app.handler, Runtime: python3.12, FunctionName: by-name}
          ArnMapping:
            Type: AWS::Lambda::EventSourceMapping
            Properties:
              FunctionName: arn:aws:lambda:us-east-1:123456789012:function:by-name
              EventSourceArn: arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2024
          Notified:
            Type: AWS::Lambda::Function
            Properties: {Code: code/, Handler: app.handler, Runtime: python3.12}
          Subscription:
            Type: AWS::SNS::Subscription
            Properties: {Protocol: lambda, Endpoint: !GetAtt Notified.Arn, TopicArn: !Ref Topic}
          Topic: {Type: AWS::SNS::Topic}
          Ruled:
            Type: AWS::Lambda::Function
            Properties: {Code: code/, Handler: app.handler, Runtime: python3.12}
          Rule:
            Type: AWS::Events::Rule
            Properties: {ScheduleExpression: rate(1 hour), Targets: [{Arn: !GetAtt Ruled.Arn, Id: t}]}
          Public:
            Type: AWS::Lambda::Function
            Properties: {Code: code/, Handler: app.handler, Runtime: python3.12}
          PublicUrl:
            Type: AWS::Lambda::Url
            Properties: {TargetFunctionArn: !GetAtt Public.Arn, AuthType: NONE}
          Allowed:
            Type: AWS::Lambda::Function
            Properties: {Code: code/, Handler: app.handler, Runtime: python3.12}
          AllowS3:
            Type: AWS::Lambda::Permission
            Properties: {FunctionName: !Ref Allowed, Principal: s3.amazonaws.com, Action: lambda:InvokeFunction}
          Inline:
            Type: AWS::Lambda::Function
            Properties: {Code: {ZipFile: "def handler(e, c): pass"}, Handler: index.handler, Runtime: python3.12}
    """, "code/app.py": "def handler(event, context):\n    return None\n"})
    fns = functions_of(tmp_path)
    consumer = fns["Consumer"]
    assert consumer.kind == "cloudformation" and consumer.at_least_once is True
    (event,) = consumer.events
    assert event.kind == "EventSourceMapping:sqs" and event.line == 11
    assert event.queue.visibility_timeout == 30 and not event.queue.explicit  # SQS's default
    assert [e.kind for e in fns["ByName"].events] == ["EventSourceMapping:dynamodb"]
    assert [e.kind for e in fns["Notified"].events] == ["SNS"]
    assert [e.kind for e in fns["Ruled"].events] == ["Schedule"]
    assert fns["Public"].at_least_once is False
    assert fns["Allowed"].at_least_once is True
    assert fns["Inline"].to_handler() is None and fns["Inline"].code_dir is None
    assert consumer.to_handler().path == str((tmp_path / "code/app.py").resolve())
    # LAM603: the default 30 s visibility is shorter than the 60 s timeout, reported at the queue
    found = {(f.code, f.line) for f in template_findings(fns.values(), TODAY)}
    assert ("LAM603", 16) in found


# -- serverless.yml -----------------------------------------------------------------------

def test_serverless_fixture():
    fns = functions_of(FIXTURES / "serverless_app")
    export, get, tuned = fns["exportReport"], fns["getReport"], fns["tunedReport"]
    assert (export.memory, export.timeout, export.arch, export.runtime) == (2048, 120, "arm64", "python3.12")
    assert export.handler_path == (FIXTURES / "serverless_app/src/reports/export.py").resolve()
    assert export.handler_function == "handle_request"
    assert {e.kind for e in export.events} == {"sqs", "schedule"} and export.at_least_once is True
    (sqs,) = [e for e in export.events if e.kind == "sqs"]
    assert sqs.queue is not None and sqs.queue.visibility_timeout == 300
    assert (get.memory, get.timeout) == (1024, 10) and get.at_least_once is False
    assert get.lines["memory"] == 11  # the provider's memorySize line
    assert tuned.memory is None and "memory" in tuned.unknown  # ${ssm:...} needs AWS
    assert tuned.at_least_once is False  # url: true is a function URL


def test_serverless_variables_and_defaults(tmp_path):
    write(tmp_path, {"serverless.yml": """
        service: s
        custom:
          sizes: {dev: 256}
          stage: ${opt:stage, 'dev'}
        provider:
          name: aws
          runtime: ${env:RUNTIME, "python3.11"}
          memorySize: ${self:custom.sizes.${self:custom.stage}, 512}
          timeout: ${opt:timeout, 25}
        functions:
          one:
            handler: handler.main
            events:
              - stream: {type: dynamodb, arn: "arn:aws:dynamodb:eu-west-1:1:table/t/stream/x"}
              - http: {path: /x, method: get}
          two:
            handler: handler.main
            timeout: ${opt:timeout}
    """, "handler.py": "def main(event, context):\n    return 1\n"})
    fns = functions_of(tmp_path)
    one, two = fns["one"], fns["two"]
    assert (one.runtime, one.timeout, one.memory) == ("python3.11", 25, 512)  # nested ${} falls back to the default
    assert [e.kind for e in one.events] == ["DynamoDB", "http"] and one.at_least_once is True
    assert two.timeout is None and "timeout" in two.unknown
    assert one.handler_path == (tmp_path / "handler.py").resolve()


# -- the engine: SQS vs API ---------------------------------------------------------------

def _check(directory: Path, handler_list):
    config = Config(root=directory.resolve())
    return Checker(config, enabled_codes(), jobs=1).run([directory], handlers=handler_list).findings


def test_sqs_handler_gets_lam201_where_the_api_handler_does_not(monkeypatch):
    monkeypatch.chdir(ROOT)
    directory = FIXTURES / "sam_sqs_vs_api"
    fns = functions_of(directory)
    assert fns["QueueFunction"].at_least_once is True and fns["ApiFunction"].at_least_once is False
    found = {(Path(f.path).name, f.line, f.code) for f in _check(directory, handlers(fns.values()))}
    wanted = set()
    for path in directory.rglob("*.py"):
        wanted |= {(path.name, line, code) for _, line, code in expectations(path)}
    assert found == wanted
    assert ("app.py", 37, "LAM201") in found  # queue_handler's email
    source = (directory / "src/orders/app.py").read_text().splitlines()
    queue_email_line, api_email_line = [i for i, line in enumerate(source, 1) if "ses.send_email" in line]
    assert ("app.py", queue_email_line, "LAM201") in found
    assert ("app.py", api_email_line, "LAM201") not in found  # the same call behind the API route
    # The code alone cannot tell: without the template no handler is at least once.
    assert [f for f in _check(directory, None) if f.code == "LAM201"] == []
    api_only = [h for h in handlers(fns.values()) if h.function == "api_handler"]
    assert [f for f in _check(directory, api_only) if f.code == "LAM201"] == []


def test_one_handler_behind_two_functions_is_at_least_once(tmp_path):
    write(tmp_path, {"template.yaml": """
        Transform: AWS::Serverless-2016-10-31
        Globals: {Function: {Runtime: python3.13, Handler: app.handler}}
        Resources:
          Api: {Type: AWS::Serverless::Function, Properties: {Timeout: 30, Events: {A: {Type: Api}}}}
          Queue: {Type: AWS::Serverless::Function, Properties: {Timeout: 10, Events: {Q: {Type: SQS}}}}
    """, "app.py": "def handler(event, context):\n    return None\n"})
    (handler,) = handlers(load_functions([tmp_path])[0])
    assert handler.at_least_once is True and handler.timeout == 10


# -- LAM6xx -------------------------------------------------------------------------------

def test_lam6xx_at_the_template_lines(monkeypatch):
    monkeypatch.chdir(ROOT)
    functions, problems = load_functions([FIXTURES])
    got = {(f.path, f.line, f.code) for f in template_findings(functions, TODAY) + problems}
    wanted = set()
    for template in find_templates([FIXTURES]):
        shown = str(template.relative_to(ROOT))
        wanted |= expectations(template, shown)
    assert {code for _, _, code in wanted} >= {"LAM600", "LAM601", "LAM602", "LAM603", "LAM604", "LAM605", "LAM606"}
    assert got == wanted


def test_runtime_dates_decide_error_or_warning(tmp_path):
    def findings(runtime: str, today: dt.date):
        directory = write(tmp_path / runtime / str(today), {"template.yaml": f"""
            Transform: AWS::Serverless-2016-10-31
            Resources:
              Fn: {{Type: AWS::Serverless::Function, Properties: {{Handler: app.handler, Runtime: {runtime}, InlineCode: x}}}}
        """})
        return [(f.code, f.severity.value) for f in template_findings(load_functions([directory])[0], today)]

    assert findings("python3.11", dt.date(2027, 4, 30)) == [("LAM601", "warning")]  # 61 days before
    assert findings("python3.11", dt.date(2027, 3, 1)) == []  # 121 days before
    assert findings("python3.11", dt.date(2027, 6, 30)) == [("LAM601", "error")]
    assert findings("python3.7", TODAY) == [("LAM601", "error")]  # older than the table
    assert findings("python3.15", TODAY) == [] and findings("nodejs20.x", TODAY) == []


def test_capacity_provider_allows_longer_timeouts(tmp_path):
    write(tmp_path, {"template.yaml": """
        Transform: AWS::Serverless-2016-10-31
        Globals: {Function: {Runtime: python3.13, InlineCode: x, Handler: a.b}}
        Resources:
          Managed: {Type: AWS::Serverless::Function, Properties: {Timeout: 3600, CapacityProviderConfig: {X: 1}}}
          TooLong: {Type: AWS::Serverless::Function, Properties: {Timeout: 6000, CapacityProviderConfig: {X: 1}}}
          Plain: {Type: AWS::Serverless::Function, Properties: {Timeout: 901}}
          Edge: {Type: AWS::Serverless::Function, Properties: {Timeout: 900, MemorySize: 10240}}
          Big: {Type: AWS::Serverless::Function, Properties: {MemorySize: 10241}}
    """})
    found = sorted((f.line, f.code) for f in template_findings(load_functions([tmp_path])[0], TODAY))
    assert found == [(5, "LAM602"), (6, "LAM602"), (8, "LAM604")]


def test_unreadable_templates_are_findings_not_tracebacks(tmp_path):
    write(tmp_path, {
        "bad/template.yaml": "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n   Properties: {}\n",
        "list/template.yaml": "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  - Fn\n",
        "other/template.yaml": "{{ cookiecutter.name }}: [\n",  # some other tool's template
        "good/template.yaml": "Resources:\n  Fn: {Type: AWS::Lambda::Function, Properties: {Runtime: python3.13}}\n",
        "deep/serverless.yml": "functions: " + "[" * 5000 + "]" * 5000 + "\nprovider: {}\n",
    })
    (tmp_path / "latin/template.yaml").parent.mkdir()
    (tmp_path / "latin/template.yaml").write_bytes("Resources: {}\nDescription: caf\xe9\n".encode("latin-1"))
    functions, problems = load_functions([tmp_path])
    assert [f.name for f in functions] == ["Fn"]
    by_dir = {Path(p.path).parent.name: (p.code, p.line) for p in problems}
    assert by_dir == {"bad": ("LAM600", 4), "list": ("LAM600", 2), "latin": ("LAM600", 1), "deep": ("LAM600", 1)}


def test_find_templates_skips_build_output(tmp_path):
    for name in ("template.yaml", "api.template.json", "serverless.yml", ".aws-sam/build/template.yaml",
                 "cdk.out/x.template.json", "node_modules/p/serverless.yml", "svc/template.yml", "notes.yaml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x: 1\n")
    found = sorted(p.relative_to(tmp_path).as_posix() for p in find_templates([tmp_path]))
    assert found == ["api.template.json", "serverless.yml", "svc/template.yml", "template.yaml"]


def test_handlers_for_check_filters_and_suppresses(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"template.yaml": """
        Transform: AWS::Serverless-2016-10-31
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: src/
              Handler: app.handler
              Runtime: python3.8  # noqa: LAM601
              MemorySize: 64
              Events: {Q: {Type: SQS}}
          Other:
            Type: AWS::Serverless::Function
            Properties: {CodeUri: lib/, Handler: other.handler, Runtime: python3.13}
    """, "src/app.py": "def handler(event, context):\n    return None\n",
         "lib/other.py": "def handler(event, context):\n    return None\n"})
    config = Config(root=tmp_path, severity=(("LAM604", "warning"),))
    found_handlers, findings = handlers_for_check([Path(".")], tmp_path, config=config, enabled=enabled_codes())
    assert {(h.function, h.at_least_once) for h in found_handlers} == {("handler", True), ("handler", None)}
    assert [(f.code, f.severity.value) for f in findings] == [("LAM604", "warning")]
    # Checking one file: the root template still says it is fed by SQS; templates are not re-checked.
    only, findings = handlers_for_check([Path("src/app.py")], tmp_path, config=config, enabled=enabled_codes())
    assert [(Path(h.path).name, h.at_least_once) for h in only] == [("app.py", True)] and findings == []
    _, findings = handlers_for_check([Path(".")], tmp_path, config=config, enabled=frozenset({"LAM601"}))
    assert findings == []


def test_checking_one_file_finds_the_template_above_it(monkeypatch):
    monkeypatch.chdir(ROOT)
    app = Path("fixtures/templates/sam_sqs_vs_api/src/orders/app.py")
    found, findings = handlers_for_check([app], ROOT)
    assert {(h.function, h.at_least_once) for h in found} == {("queue_handler", True), ("api_handler", False)}
    assert findings == []


# -- data ---------------------------------------------------------------------------------

def test_rule_and_runtime_data():
    table = runtimes()
    assert [r.identifier for r in table][:2] == ["python3.8", "python3.9"]
    assert all(r.source for r in table)
    assert dt.date(2024, 10, 14) == table[0].deprecation
    family = {code: rule for code, rule in all_rules().items() if code.startswith("LAM6")}
    assert set(family) == {f"LAM60{i}" for i in range(7)}
    assert all(rule.fix and rule.rationale for rule in family.values())


def test_to_handler_is_what_the_engine_takes(tmp_path):
    write(tmp_path, {"template.json": json.dumps({"Resources": {"Fn": {
        "Type": "AWS::Lambda::Function",
        "Properties": {"Code": "src", "Handler": "app.handler", "Runtime": "python3.13",
                       "Timeout": {"Fn::If": ["Never", 5, 5]}}}}}),
        "src/app.py": "def handler(event, context):\n    return None\n"})
    (fn,) = load_functions([tmp_path])[0]
    handler = fn.to_handler()
    assert handler.source == "template" and handler.timeout == 5 and handler.at_least_once is None


# -- robustness ---------------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 20000), st.text(max_size=8),
                     st.sampled_from(["python3.8", "app.handler", "!Ref X", "${self:a}", "arn:aws:sqs:x:y:z"]))
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(["Ref", "Fn::GetAtt", "Fn::If", "Fn::Sub", "Type", "Properties", "Queue",
                                     "Size", "arn", "type", "Fn::FindInMap", "Condition"]), inner, max_size=3)),
    max_leaves=8)
_KEYS = st.sampled_from(["Handler", "Runtime", "MemorySize", "Timeout", "CodeUri", "Code", "Architectures",
                         "Layers", "EphemeralStorage", "Events", "PackageType", "FunctionName",
                         "EventSourceArn", "Principal", "Targets", "Subscription", "VisibilityTimeout"])
_TYPES = st.sampled_from(["AWS::Serverless::Function", "AWS::Lambda::Function", "AWS::SQS::Queue",
                          "AWS::Lambda::EventSourceMapping", "AWS::Lambda::Permission", "AWS::SNS::Topic",
                          "AWS::Events::Rule", "AWS::S3::Bucket"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(resources=st.dictionaries(st.sampled_from(["A", "B", "Queue", "Fn"]),
                                 st.tuples(_TYPES, st.dictionaries(_KEYS, _VALUES, max_size=5)), max_size=4),
       globals_=st.dictionaries(_KEYS, _VALUES, max_size=3), serverless=st.booleans())
def test_any_template_shape_reads_without_a_traceback(tmp_path, resources, globals_, serverless):
    if serverless:
        document = {"service": "s", "provider": globals_,
                    "functions": {k: props for k, (_, props) in resources.items()},
                    "resources": {"Resources": {k: {"Type": t, "Properties": p} for k, (t, p) in resources.items()}}}
        name = "serverless.yml"
    else:
        document = {"Transform": "AWS::Serverless-2016-10-31", "Globals": {"Function": globals_},
                    "Resources": {k: {"Type": t, "Properties": p} for k, (t, p) in resources.items()}}
        name = "template.json"
    (tmp_path / name).write_text(json.dumps(document), encoding="utf-8")
    functions, problems = load_functions([tmp_path / name])
    template_findings(functions, TODAY)
    handlers(functions)
    for function in functions:
        function.to_handler()
