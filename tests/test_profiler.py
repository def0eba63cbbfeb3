"""The profiler harness with real child processes: OOM, timeout, errors, init estimate, context,
reports and the CLI. Kept short (few invocations, small work); the CPU-ratio acceptance check
lives in benchmarks/profiler_cpu_ratio.py, only a loose sanity check is here."""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the profiler needs Linux")

from click.testing import CliRunner  # noqa: E402

from lambdalint.cli_profile import profile_command  # noqa: E402
from lambdalint.profiler.context import LambdaContext  # noqa: E402
from lambdalint.profiler.harness import HandlerSpec, ProfileSpec, group_members, run_profile  # noqa: E402
from lambdalint.profiler.initestimate import estimate_init, published_init_ms  # noqa: E402
from lambdalint.profiler.limits import DutyCycle, cpu_share, detect_backend, rlimit_data_bytes  # noqa: E402
from lambdalint.profiler.recommend import Recommendation, TierPoint, recommend  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "profiler"
EVENTS = ROOT / "fixtures" / "events"
TIER_KEYS = {"memory_mb", "init_ms", "duration_ms_p50", "duration_ms_p95", "billed_ms", "peak_rss_mb",
             "oom", "timed_out", "monthly_cost_usd"}


def profile(handler: str, memory: list, invocations: int = 1, timeout: float = 10.0, event: str = "{}",
            **kwargs):
    path = handler if os.path.isabs(handler.split(":")[0]) else str(FIXTURES / handler)
    spec = ProfileSpec(handler=HandlerSpec.parse(path), memory_sizes=memory, invocations=invocations,
                       timeout_s=timeout, event_text=event, **kwargs)
    return run_profile(spec)


def assert_nothing_left(run) -> None:
    """No tier left a live process (its whole group) or a cgroup behind."""
    for tier in run.tiers:
        assert group_members(tier.pid) == [], f"{tier.memory_mb} MB left processes running"
        assert not Path(f"/proc/{tier.pid}").exists(), "child not reaped"
    for parent in {run.backend.cpu_dir, run.backend.memory_dir} - {None}:
        assert not list(Path(parent).glob(f"lambdalint-profile-{os.getpid()}-*"))


def write_handler(tmp_path: Path, source: str, name: str = "app.py") -> str:
    (tmp_path / name).write_text(source)
    return f"{tmp_path / name}:handler"


# --- real child processes ------------------------------------------------------------------


def test_300mb_allocator_is_oom_at_128_and_256_and_fine_at_1024():
    run = profile("alloc_300mb.py:handler", [128, 256, 1024], invocations=1, timeout=30)
    tiny, small, large = run.tiers
    for tier in (tiny, small):
        assert tier.oom and not tier.timed_out and not tier.ok, tier
        assert tier.error["errorType"] == "Runtime.OutOfMemory"
        assert f"{tier.memory_mb} MB" in tier.error["errorMessage"] and tier.error["requestId"]
    assert not large.oom and large.ok and large.errors == 0
    assert large.peak_rss_mb >= 300
    assert_nothing_left(run)


def test_hello_at_128mb_is_not_oom_when_the_harness_itself_is_big():
    """A spawned child's rusage peak includes its parent's (carried across fork + exec): a
    hello world profiled from a 200 MB process (a long pytest session, say) was reported out
    of memory at 128 MB. Its peak must be its own."""
    size = 200 * 1024 * 1024
    ballast = bytearray(size)
    ballast[::4096] = b"\x01" * len(range(0, size, 4096))  # touch every page: resident
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > 128 * 1024
    run = profile("hello.py:handler", [128], invocations=2, timeout=30)
    del ballast
    (tier,) = run.tiers
    assert not tier.oom and tier.ok and tier.errors == 0, (tier.error, tier.peak_rss_mb)
    assert 0 < tier.peak_rss_mb < 128
    assert_nothing_left(run)


def test_thread_pool_at_128mb_is_not_oom(tmp_path):
    """40 live threads map 40 x 8 MiB of stack: writable address space that counts against
    RLIMIT_DATA, though only a few MB are resident. A backstop of twice the tier refused the
    ~28th thread at 128 MB; Lambda, which counts memory used, runs them all."""
    source = (
        "import threading\n"
        "from concurrent.futures import ThreadPoolExecutor\n"
        "N = 40\n"
        "def handler(event, context):\n"
        "    barrier = threading.Barrier(N)\n"
        "    def work(i):\n"
        "        data = [bytearray(512) for _ in range(50)]  # small mallocs: a malloc arena each\n"
        "        barrier.wait(timeout=20)  # all N threads alive at once\n"
        "        return len(data)\n"
        "    with ThreadPoolExecutor(max_workers=N) as pool:\n"
        "        done = sum(pool.map(work, range(N)))\n"
        "    return {'threads': N, 'done': done}\n"
    )
    run = profile(write_handler(tmp_path, source), [128], invocations=1, timeout=60)
    (tier,) = run.tiers
    assert not tier.oom and tier.ok and tier.errors == 0, (tier.error, tier.log_tail)
    assert json.loads(tier.result) == {"threads": 40, "done": 2000}
    assert tier.peak_rss_mb < 128
    assert_nothing_left(run)


def test_runaway_allocation_hits_the_backstop_with_a_traceback(tmp_path):
    if detect_backend("auto").memory != "rlimit":
        pytest.skip("the RLIMIT_DATA backstop is only used without a cgroup v2 memory controller")
    source = "def handler(event, context):\n    return len(bytearray(4 * 1024 ** 3))\n"
    run = profile(write_handler(tmp_path, source), [128], invocations=1, timeout=30)
    (tier,) = run.tiers
    # 4 GiB is past the backstop: the allocation fails at once, before anything is resident
    assert tier.oom and not tier.ok and tier.error["errorType"] == "Runtime.OutOfMemory"
    assert any("app.py" in line and "bytearray" in line for line in tier.error["stackTrace"])
    assert_nothing_left(run)


def test_rlimit_backstop_leaves_room_above_the_tier_for_thread_stacks():
    mib = 1024 * 1024
    for tier_mb in (128, 1024, 10240):
        backstop = rlimit_data_bytes(tier_mb * mib)
        assert backstop >= 2 * tier_mb * mib + 64 * 8 * mib  # 64 threads' default stacks
    assert rlimit_data_bytes(128 * mib) < 1024 * mib  # still a backstop: a GiB is refused


def test_sleeper_past_timeout_is_killed_within_3s_with_its_children():
    started = time.monotonic()
    run = profile("sleeper.py:handler", [1024], invocations=1, timeout=2)
    elapsed = time.monotonic() - started
    (tier,) = run.tiers
    assert tier.timed_out and not tier.oom
    assert tier.error["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 2.00 seconds" in tier.error["errorMessage"]
    assert elapsed < 3.0, f"reported after {elapsed:.2f} s"
    assert_nothing_left(run)  # including the `sleep 60` the handler started


def test_raising_handler_reports_lambda_error_and_traceback():
    run = profile("raises.py:handler", [512], invocations=2)
    (tier,) = run.tiers
    assert tier.errors == 3 and tier.ok  # every invocation raised, none crashed the harness
    error = json.loads(tier.result)  # the invocation's result is the error object, as on Lambda
    assert set(error) == {"errorMessage", "errorType", "requestId", "stackTrace"}
    assert error["errorType"] == "OrderRejected"
    assert error["errorMessage"] == "order o-1 has no quantity"
    assert len(error["stackTrace"]) == 2 and all("raises.py" in frame for frame in error["stackTrace"])
    assert "in _validate" in error["stackTrace"][-1]
    assert not any("runner.py" in frame for frame in error["stackTrace"])
    assert_nothing_left(run)


def test_init_errors_are_lambdas(tmp_path):
    missing = profile(write_handler(tmp_path, "import no_such_module_xyz\n", "a.py"), [128])
    assert missing.tiers[0].init_error["errorType"] == "Runtime.ImportModuleError"
    assert "No module named 'no_such_module_xyz'" in missing.tiers[0].init_error["errorMessage"]
    absent = profile(write_handler(tmp_path, "def other(e, c):\n    return 1\n", "b.py"), [128])
    assert absent.tiers[0].init_error["errorMessage"] == "Handler 'handler' missing on module 'b'"
    unmarshallable = profile(write_handler(tmp_path, "def handler(e, c):\n    return object()\n", "c.py"), [128])
    assert unmarshallable.tiers[0].error["errorType"] == "Runtime.MarshalError"


def test_context_counts_down_and_environment_is_lambdas(tmp_path):
    source = (
        "import os, time\n"
        "def handler(event, context):\n"
        "    before = context.get_remaining_time_in_millis()\n"
        "    time.sleep(0.2)\n"
        "    after = context.get_remaining_time_in_millis()\n"
        "    return {'before': before, 'after': after, 'memory': context.memory_limit_in_mb,\n"
        "            'name': context.function_name, 'arn': context.invoked_function_arn,\n"
        "            'request': context.aws_request_id, 'env_memory': os.environ['AWS_LAMBDA_FUNCTION_MEMORY_SIZE'],\n"
        "            'tmp': os.environ['TMPDIR'], 'cwd': os.getcwd(), 'home': os.environ['HOME'],\n"
        "            'event': event}\n"
    )
    run = profile(write_handler(tmp_path, source), [512], invocations=1, timeout=3,
                  event=json.dumps({"k": 1}), function_name="orders")
    seen = json.loads(run.tiers[0].result)
    assert 2500 < seen["before"] <= 3000
    assert seen["before"] - seen["after"] >= 180
    assert seen["memory"] == "512" == seen["env_memory"]  # a string, as the real runtime gives it
    assert seen["name"] == "orders" and seen["arn"].endswith(":function:orders")
    assert len(seen["request"]) == 36 and seen["event"] == {"k": 1}
    assert seen["cwd"] == str(tmp_path) and seen["home"] == seen["tmp"]
    assert not Path(seen["tmp"]).exists()  # the tier's temp dir is gone


def test_context_object_alone():
    context = LambdaContext(function_name="f", memory_limit_in_mb=128, timeout_s=1, now=time.time())
    first = context.get_remaining_time_in_millis()
    time.sleep(0.05)
    assert 0 < context.get_remaining_time_in_millis() <= first - 40
    late = LambdaContext(function_name="f", memory_limit_in_mb=128, timeout_s=1, now=time.time() - 5)
    assert late.get_remaining_time_in_millis() == 0
    assert context.log_group_name == "/aws/lambda/f" and "[$LATEST]" in context.log_stream_name


def test_init_estimate_for_hello_is_within_25_percent_of_published_83ms():
    run = profile("hello.py:handler", [128, 1024], invocations=1)
    estimate = estimate_init([t.import_ms for t in run.tiers], runtime="python3.12", arch="x86_64")
    assert abs(estimate.total_ms - 83) / 83 < 0.25
    assert estimate.import_ms < 5  # a hello world adds (almost) nothing to the runtime's own start
    assert all(t.init_ms is not None and t.init_ms > t.import_ms for t in run.tiers)


def test_boto3_handler_init_estimate_is_higher_by_its_measured_import():
    pytest.importorskip("boto3")
    hello = profile("hello.py:handler", [1024]).tiers
    boto = profile("uses_boto3.py:handler", [1024]).tiers
    hello_est, boto_est = (estimate_init([t.import_ms for t in tiers], runtime="python3.12") for tiers in (hello, boto))
    assert boto[0].result and json.loads(boto[0].result)["calls"] == 0  # offline: no call made
    assert boto_est.import_ms > hello_est.import_ms + 20
    assert boto_est.total_ms - hello_est.total_ms == pytest.approx(boto_est.import_ms - hello_est.import_ms)


def test_cpu_share_sanity_512_is_slower_than_1769():
    event = json.dumps({"iterations": 250_000})
    for backend in ("auto", "portable"):
        run = profile("cpu_bound.py:handler", [512, 1769], invocations=3, event=event, backend=backend)
        slow, fast = run.tiers
        # The 3.46x figure is measured by benchmarks/profiler_cpu_ratio.py; a test only checks
        # the direction, with room for a loaded CI machine.
        assert slow.p50_ms > 1.5 * fast.p50_ms, (backend, slow.warm_ms, fast.warm_ms)
        assert_nothing_left(run)


# --- CLI and reports -------------------------------------------------------------------------


def test_cli_json_shape_and_html_report(tmp_path):
    html_path = tmp_path / "report.html"
    result = CliRunner().invoke(profile_command, [
        f"{FIXTURES / 'hello.py'}:handler", "--event", str(EVENTS / "sqs.json"), "--memory", "1024,512",
        # This test is about the report's shape: tiers and a timeout that a loaded CI machine
        # cannot turn into an OOM or timeout test (those have their own tests above).
        "--timeout", "30", "--invocations", "2", "--format", "json", "--html", str(html_path), "--no-progress"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [t["memory_mb"] for t in data["tiers"]] == [512, 1024]
    for tier in data["tiers"]:
        assert TIER_KEYS <= set(tier)
        assert tier["oom"] is False and tier["timed_out"] is False, tier
        assert tier["billed_ms"] >= 1 and tier["monthly_cost_usd"] > 0, tier
    assert set(data["recommendation"]) == {"cost", "speed", "balanced"}
    assert set(data["recommendation"].values()) <= {512, 1024}
    assert data["backend"]["description"] and data["cost_uses_init"] == "init_lambda_estimate_ms"
    page = html_path.read_text()
    assert "<svg" in page and "</svg>" in page
    assert "<script" not in page and "https://" not in page  # self-contained


def test_cli_text_output_names_backend_and_recommendation():
    result = CliRunner().invoke(profile_command, [
        f"{FIXTURES / 'hello.py'}:handler", "--memory", "128", "-n", "1", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert f"backend: {detect_backend('auto').describe()}" in result.stdout
    assert "Recommendation" in result.stdout and "init Lambda" in result.stdout


@pytest.mark.parametrize("args, message", [
    (["missing.py:handler"], "does not exist"),
    ([str(FIXTURES / "hello.py")], "must look like"),
    ([f"{FIXTURES / 'hello.py'}:handler", "--event", str(FIXTURES / "hello.py")], "is not JSON"),
    ([f"{FIXTURES / 'hello.py'}:handler", "--event", "nope.json"], "does not exist"),
    ([f"{FIXTURES / 'hello.py'}:handler", "--memory", "64"], "outside Lambda's 128-10240 MB"),
    ([f"{FIXTURES / 'hello.py'}:handler", "--memory", "10241"], "outside Lambda's 128-10240 MB"),
    ([f"{FIXTURES / 'hello.py'}:handler", "--memory", "12x"], "not a whole number"),
    ([f"{FIXTURES / 'hello.py'}:handler", "--env", "NOEQUALS"], "KEY=VALUE"),
])
def test_cli_user_errors_exit_2_without_traceback(args, message):
    result = CliRunner().invoke(profile_command, args + ["--no-progress"])
    assert result.exit_code == 2
    assert "lambdalint: error:" in result.stderr and message in result.stderr
    assert "Traceback" not in result.output


# --- pure parts ------------------------------------------------------------------------------


def test_recommend_strategies_follow_power_tuning():
    points = [TierPoint(128, Decimal("1.00"), 1000.0), TierPoint(512, Decimal("1.10"), 260.0),
              TierPoint(1769, Decimal("2.00"), 80.0), TierPoint(3008, Decimal("3.40"), 78.0)]
    rec = recommend(points, 0.5)
    assert (rec.cost, rec.speed) == (128, 3008)
    # balanced: 0.5*cost/3.40 + 0.5*duration/1000 -> 512 scores 0.292, 1769 0.334, 128 0.647
    assert rec.balanced == 512
    assert recommend(points, 1.0).balanced == 128 and recommend(points, 0.0).balanced == 3008
    assert recommend([], 0.5) == Recommendation(None, None, None, 0.5)


def test_cpu_share_follows_memory():
    assert cpu_share(1769, cores=2) == 1.0
    assert cpu_share(512, cores=2) == pytest.approx(0.2894, abs=1e-4)
    assert cpu_share(10240, cores=2) == 2.0  # capped at the cores present


def test_duty_cycle_meters_cpu_time_against_the_quota():
    """Simulated child that burns CPU whenever it is not stopped; the supervisor wakes late."""
    clock = {"now": 0.0, "cpu": 0.0, "running": True}

    def send(pgid, sig):
        clock["running"] = sig == signal.SIGCONT

    duty = DutyCycle(1, lambda: clock["cpu"], share=512 / 1769, send_signal=send)
    while clock["now"] < 10.0:
        wake = duty.step(clock["now"]) + 0.0004  # every wake-up 0.4 ms late
        if clock["running"]:
            clock["cpu"] += wake - clock["now"]
        clock["now"] = wake
    assert clock["cpu"] / clock["now"] == pytest.approx(512 / 1769, rel=0.02)


def test_cgroups_of_a_killed_harness_are_swept():
    from lambdalint.profiler.limits import sweep_stale_cgroups

    backend = detect_backend("auto")
    if backend.cpu_dir is None:
        pytest.skip("no writable cgroup here")
    dead = 2 ** 22 + 12345  # above the default pid_max, so no live process has it
    stale = Path(backend.cpu_dir) / f"lambdalint-profile-{dead}-1"
    stale.mkdir()
    assert stale in sweep_stale_cgroups(Path(backend.cpu_dir))
    assert not stale.exists()


def test_published_init_figures_and_fallback():
    assert published_init_ms("python3.12", "x86_64")[0] == pytest.approx(83.29, abs=0.01)
    assert published_init_ms("python3.99", "x86_64")[1] == "python3.14"


def test_event_fixtures_are_realistic_json():
    sqs = json.loads((EVENTS / "sqs.json").read_text())
    assert sqs["Records"][0]["eventSource"] == "aws:sqs" and "receiptHandle" in sqs["Records"][0]
    s3 = json.loads((EVENTS / "s3.json").read_text())
    assert s3["Records"][0]["s3"]["object"]["key"] and s3["Records"][0]["eventName"].startswith("ObjectCreated")
    apigw = json.loads((EVENTS / "apigw.json").read_text())
    assert apigw["httpMethod"] == "GET" and apigw["requestContext"]["stage"] == "prod"
    bridge = json.loads((EVENTS / "eventbridge.json").read_text())
    assert {"detail-type", "source", "detail"} <= set(bridge)
