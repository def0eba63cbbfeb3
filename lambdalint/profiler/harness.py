"""Run a handler at each memory tier, each in a fresh, limited, disposable child process.

Isolation, per tier:

* a new session and process group (`start_new_session=True`), so one `killpg` reaches the
  handler's own subprocesses too, and the terminal's Ctrl-C goes to us, not to user code;
* a fresh temporary directory as TMPDIR and HOME (the event file and the function's log live
  there too), removed afterwards. HOME matters: without it boto3 would find the developer's
  ~/.aws credentials and a handler under test could touch real AWS resources;
* cwd = the task root (the handler's directory, or --task-root), as Lambda runs in /var/task.
  We do not copy it: copying a project can be slow and large, relative imports and data files
  must resolve exactly as deployed, and with PYTHONDONTWRITEBYTECODE nothing is written there
  unless the handler itself writes into its own directory (which fails on Lambda, read-only);
* the tier's CPU and memory limits (limits.TierSandbox), a hard per-invocation deadline
  enforced here with SIGKILL to the whole group, and a kill of anything left over, in a
  `finally` that also runs on Ctrl-C.
"""

from __future__ import annotations

import json
import math
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from . import ProfilerError
from .context import default_log_stream_name, lambda_environment
from .limits import BackendChoice, BackendUnavailable, TierSandbox, detect_backend

RUNNER_PATH = Path(__file__).with_name("runner.py")
CONTEXT_PATH = Path(__file__).with_name("context.py")
INIT_TIMEOUT_S = 10.0  # Lambda's INIT phase limit
_EXIT_GRACE_S = 1.0  # after its last message the child gets this long to exit on its own
_OOM_EXIT = 86  # runner.py's exit status when it cannot allocate
_LOG_TAIL_BYTES = 4000
_PASSTHROUGH_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "PYTHONPATH", "VIRTUAL_ENV",
                    "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE")

ProgressCallback = Callable[[str, int, dict], None]


@dataclass(frozen=True)
class HandlerSpec:
    """`path/to/app.py:handler`, resolved to a module name under a task root."""

    text: str
    path: Path
    function: str
    task_root: Path
    module: str

    @classmethod
    def parse(cls, text: str, task_root: Optional[str] = None) -> "HandlerSpec":
        file_part, sep, function = text.rpartition(":")
        if not sep or not file_part or not function:
            raise ProfilerError(f"handler {text!r} must look like path/to/app.py:handler")
        if not function.isidentifier():
            raise ProfilerError(f"handler function {function!r} in {text!r} is not a Python name")
        path = Path(file_part).expanduser()
        if path.suffix != ".py":
            raise ProfilerError(f"handler file {file_part!r} must be a .py file")
        if not path.is_file():
            raise ProfilerError(f"handler file {file_part!r} does not exist")
        path = path.resolve()
        root = Path(task_root).expanduser().resolve() if task_root else path.parent
        if not root.is_dir():
            raise ProfilerError(f"task root {task_root!r} is not a directory")
        try:
            parts = path.with_suffix("").relative_to(root).parts
        except ValueError:
            raise ProfilerError(f"handler file {file_part!r} is not inside the task root {str(root)!r}") from None
        if not all(part.isidentifier() for part in parts[:-1]) or "." in parts[-1]:
            raise ProfilerError(f"{file_part!r} cannot be imported as a module from {str(root)!r}")
        return cls(text=text, path=path, function=function, task_root=root, module=".".join(parts))


@dataclass
class ProfileSpec:
    """Everything one profile run needs; built by the CLI, usable from Python too."""

    handler: HandlerSpec
    event_text: str = "{}"
    event_label: str = "{}"
    memory_sizes: list = field(default_factory=lambda: [128, 256, 512, 1024, 1769, 3008])
    invocations: int = 10
    timeout_s: float = 3.0
    python: str = sys.executable
    env: dict = field(default_factory=dict)
    backend: str = "auto"
    function_name: Optional[str] = None
    region: str = "us-east-1"
    runtime: str = f"python{sys.version_info[0]}.{sys.version_info[1]}"

    @property
    def name(self) -> str:
        return self.function_name or self.handler.module.rsplit(".", 1)[-1]


def percentile(values: list, fraction: float) -> Optional[float]:
    """Nearest-rank percentile: with few invocations it returns a value that was measured."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def trimmed(values: list, fraction: float = 0.2) -> list:
    """The values without the lowest and highest `fraction` (none dropped below 5 values)."""
    drop = int(len(values) * fraction)
    return sorted(values)[drop:len(values) - drop] if drop else list(values)


@dataclass
class TierResult:
    """What one memory tier measured. Durations are milliseconds of wall time."""

    memory_mb: int
    cpu_share: float
    interpreter_ms: Optional[float] = None  # spawn until the runner's first line ran
    import_ms: Optional[float] = None  # the handler module's import, beyond the runtime's own
    first_ms: Optional[float] = None  # the invocation right after init
    warm_ms: list = field(default_factory=list)  # the N invocations after that
    warm_cpu_ms: list = field(default_factory=list)  # CPU time the handler used in each of them
    warm_contention_ms: list = field(default_factory=list)  # waiting for a CPU another process had
    boosted: bool = False
    errors: int = 0
    error: Optional[dict] = None  # the first error, shaped like Lambda's
    result: Optional[str] = None  # the first invocation's response (preview) or error
    init_error: Optional[dict] = None
    peak_rss_mb: Optional[float] = None
    oom: bool = False
    timed_out: bool = False
    exit_status: Optional[str] = None
    log_tail: str = ""
    pid: Optional[int] = None
    wall_s: float = 0.0

    @property
    def init_ms(self) -> Optional[float]:
        """Measured local cold start: interpreter start-up plus the handler's import."""
        if self.interpreter_ms is None or self.import_ms is None:
            return None
        return self.interpreter_ms + self.import_ms

    @property
    def ok(self) -> bool:
        """Usable for a recommendation: it ran, and neither ran out of memory nor timed out."""
        return not (self.oom or self.timed_out or self.init_error) and bool(self.durations)

    @property
    def durations(self) -> list:
        """Warm durations, or the first one when only one invocation ran."""
        if self.warm_ms:
            return self.warm_ms
        return [self.first_ms] if self.first_ms is not None else []

    @property
    def contention(self) -> float:
        """Fraction of the warm invocations' wall time spent waiting for a busy CPU."""
        wall = sum(self.warm_ms[: len(self.warm_contention_ms)])
        return sum(self.warm_contention_ms) / wall if wall > 0 else 0.0

    @property
    def p50_ms(self) -> Optional[float]:
        return percentile(self.durations, 0.50)

    @property
    def p95_ms(self) -> Optional[float]:
        return percentile(self.durations, 0.95)

    @property
    def mean_ms(self) -> Optional[float]:
        """Trimmed mean (Power Tuning's discardTopBottom 0.2): what cost and speed are based on."""
        kept = trimmed(self.durations)
        return sum(kept) / len(kept) if kept else None

    @property
    def billed_ms(self) -> Optional[float]:
        """Mean billed duration of the same invocations, each rounded up to 1 ms as AWS bills."""
        billed = [math.ceil(d) for d in trimmed(self.durations)]
        return sum(billed) / len(billed) if billed else None


@dataclass
class ProfileRun:
    spec: ProfileSpec
    backend: BackendChoice
    tiers: list


def child_environment(spec: ProfileSpec, memory_mb: int, tmp: Path) -> dict:
    """A deliberately small environment: what Lambda sets, what Python needs, what the user adds.

    Credentials are not inherited (AWS_* variables, and HOME points at the tier's temp dir):
    a handler under test must not reach real AWS by accident. Pass them with --env if meant.
    """
    import site

    env = {key: os.environ[key] for key in _PASSTHROUGH_ENV if key in os.environ}
    tmp_text = str(tmp)
    env.update(HOME=tmp_text, TMPDIR=tmp_text, TEMP=tmp_text, TMP=tmp_text,
               PYTHONUSERBASE=site.getuserbase(),  # `pip install --user` packages stay importable
               PYTHONUNBUFFERED="1",  # the Lambda runtime does not buffer stdout either
               PYTHONDONTWRITEBYTECODE="1")  # leave no __pycache__ in the user's project
    env.update(lambda_environment(
        function_name=spec.name, memory_mb=memory_mb, region=spec.region, runtime=spec.runtime,
        task_root=str(spec.handler.task_root),
        handler=f"{spec.handler.module}.{spec.handler.function}",
        log_stream_name=default_log_stream_name("$LATEST", time.time())))
    env.update(spec.env)
    return env


def _timeout_error(timeout_s: float, request_id: str = "") -> dict:
    prefix = f"RequestId: {request_id} Error: " if request_id else ""
    return {"errorMessage": f"{prefix}Task timed out after {timeout_s:.2f} seconds",
            "errorType": "Sandbox.Timedout", "requestId": request_id, "stackTrace": []}


def _oom_error(memory_mb: int, request_id: str = "") -> dict:
    return {"errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: signal: killed "
                            f"(memory size {memory_mb} MB exceeded)",
            "errorType": "Runtime.OutOfMemory", "requestId": request_id, "stackTrace": []}


def _exit_error(status: int) -> dict:
    if status < 0:
        try:
            what = f"signal: {signal.Signals(-status).name}"
        except ValueError:
            what = f"signal: {-status}"
    else:
        what = f"exit status {status}"
    return {"errorMessage": f"Runtime exited with error: {what}", "errorType": "Runtime.ExitError",
            "requestId": "", "stackTrace": []}


def _child_exited(pid: int) -> bool:
    """Has the child exited? Peeks without reaping (WNOWAIT) so its pgid stays reserved."""
    try:
        info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True
    return info is not None


class _TierRun:
    """One tier's child: spawn, message pump with deadlines, and an idempotent teardown."""

    def __init__(self, spec: ProfileSpec, memory_mb: int, backend: BackendChoice,
                 on_event: Optional[ProgressCallback]) -> None:
        self.spec, self.memory_mb, self.backend = spec, memory_mb, backend
        self.on_event = on_event or (lambda kind, mb, info: None)
        self.sandbox: Optional[TierSandbox] = None
        self.result = TierResult(memory_mb=memory_mb, cpu_share=0.0)
        self.proc: Optional[subprocess.Popen] = None
        self.fds: list = []
        self.tmp: Optional[Path] = None
        self.finished_cleanly = False  # the runner said "done" or reported an init error
        self.in_flight: Optional[dict] = None  # the "start" message of the running invocation
        self.t_spawn = 0.0
        self.reported_peak_kb = 0  # the highest VmHWM the runner reported (after init, each call)
        self.harness_maxrss_kb = 0  # our own ru_maxrss once the child had exec'd (see _peak_rss_mb)

    def start(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix=f"lambdalint-profile-{self.memory_mb}mb-"))
        event_path = self.tmp / "event.json"
        event_path.write_text(self.spec.event_text, encoding="utf-8")
        try:
            self.sandbox = TierSandbox(self.backend, self.memory_mb)
        except OSError as exc:
            raise ProfilerError(f"cannot set up the {self.memory_mb} MB tier's limits ({self.backend.cpu}): "
                                f"{exc}; try --backend portable") from None
        self.result.cpu_share = self.sandbox.share
        msg_r, msg_w = os.pipe()
        ctl_r, ctl_w = os.pipe()
        self.fds = [msg_r, msg_w, ctl_r, ctl_w]
        self.msg_r, self.ctl_w = msg_r, ctl_w
        config = {
            "msg_fd": msg_w, "ctl_fd": ctl_r, "context_py": str(CONTEXT_PATH),
            "task_root": str(self.spec.handler.task_root), "module": self.spec.handler.module,
            "function": self.spec.handler.function, "event_path": str(event_path),
            "invocations": self.spec.invocations + 1,  # the first one follows the cold start
            "timeout_s": self.spec.timeout_s, "memory_mb": self.memory_mb,
            "function_name": self.spec.name, "region": self.spec.region,
            **self.sandbox.child_config(),
        }
        env = child_environment(self.spec, self.memory_mb, self.tmp)
        with open(self.tmp / "function.log", "wb") as log:
            self.t_spawn = time.monotonic()
            try:
                self.proc = subprocess.Popen(
                    [self.spec.python, str(RUNNER_PATH), json.dumps(config)],
                    cwd=str(self.spec.handler.task_root), env=env, stdin=subprocess.DEVNULL, stdout=log,
                    stderr=subprocess.STDOUT, pass_fds=(msg_w, ctl_r), start_new_session=True)
            except OSError as exc:
                raise ProfilerError(f"cannot start {self.spec.python}: {exc.strerror}") from None
        self.result.pid = self.proc.pid
        # Popen returns after the exec: our peak now bounds what the child inherited (_peak_rss_mb).
        self.harness_maxrss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        self._close_fd(msg_w)  # our copies: EOF on msg_r must mean the child side closed
        self._close_fd(ctl_r)
        self.sandbox.attach(self.proc.pid)

    def _close_fd(self, fd: int) -> None:
        if fd in self.fds:
            self.fds.remove(fd)
            os.close(fd)

    def pump(self) -> None:
        """Read the runner's messages until it is done, dies, runs out of time or memory."""
        deadline = self.t_spawn + INIT_TIMEOUT_S
        buffer = b""
        while deadline is not None:
            now = time.monotonic()
            if self.sandbox.oom:
                return self._mark_oom()
            if now >= deadline:
                return self._mark_timeout()
            ready, _, _ = select.select([self.msg_r], [], [], min(0.05, deadline - now))
            if not ready:
                if _child_exited(self.proc.pid):
                    break
                continue
            chunk = os.read(self.msg_r, 65536)
            if not chunk:
                break
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                try:
                    message = json.loads(line)
                except ValueError:
                    continue  # not ours (user code wrote to our descriptor): ignore it
                deadline = self._handle(message)
                if deadline is None:
                    break
        if self.sandbox.oom:
            self._mark_oom()

    def _handle(self, msg: dict) -> Optional[float]:
        """Apply one runner message; return the next deadline, or None when the run is over."""
        kind, now, result = msg["t"], time.monotonic(), self.result
        if isinstance(msg.get("peak_rss_kb"), int):
            self.reported_peak_kb = max(self.reported_peak_kb, msg["peak_rss_kb"])
        between_calls = now + max(5.0, self.spec.timeout_s)
        if kind == "ready":
            result.interpreter_ms = (msg["main"] - self.t_spawn) * 1000.0
            result.import_ms = msg["import_ms"]
            result.boosted = bool(msg.get("boosted")) or self.backend.cpu != "dutycycle"
            self.sandbox.start_throttle()
            try:
                os.write(self.ctl_w, b"g")
            except OSError:  # the child died right after init: the exit status will say why
                return between_calls
            self.on_event("init", self.memory_mb, {"init_ms": result.init_ms})
            return between_calls
        if kind == "init_error":
            result.import_ms = msg.get("import_ms")
            result.init_error = result.error = msg["error"]
            result.errors += 1
            result.oom = bool(msg.get("oom"))
            self.finished_cleanly = True
            return None
        if kind == "start":
            self.in_flight = msg
            return msg["at"] + self.spec.timeout_s
        if kind == "end":
            self._record_contention(msg)
            self._record_invocation(msg)
            return between_calls  # after a stopping error the runner still says "done"
        if kind == "done":
            self.finished_cleanly = True
            return None
        return between_calls

    def _record_contention(self, msg: dict) -> None:
        if msg["i"] > 0 and msg.get("contention_ms") is not None:
            self.result.warm_contention_ms.append(msg["contention_ms"])

    def _record_invocation(self, msg: dict) -> None:
        result = self.result
        self.in_flight = None
        if msg["i"] == 0:
            result.first_ms = msg["ms"]
            result.result = json.dumps(msg["error"]) if msg["error"] else msg["result"]
        else:
            result.warm_ms.append(msg["ms"])
            if msg.get("cpu_ms") is not None:
                result.warm_cpu_ms.append(msg["cpu_ms"])
        if msg["error"]:
            result.errors += 1
            result.error = result.error or msg["error"]
        if msg.get("oom"):
            result.oom = True
        self.on_event("invocation", self.memory_mb, {"index": msg["i"], "ms": msg["ms"]})

    def _mark_timeout(self) -> None:
        """Past a deadline: kill the whole group now and record it as Lambda would."""
        self.sandbox.kill_all()
        result = self.result
        result.timed_out = True
        if self.in_flight is None and result.init_ms is None:
            result.init_error = result.error = {
                "errorMessage": f"Init timed out after {INIT_TIMEOUT_S:.2f} seconds",
                "errorType": "Sandbox.Timedout", "requestId": "", "stackTrace": []}
            result.errors += 1
            return
        error = _timeout_error(self.spec.timeout_s, (self.in_flight or {}).get("request_id", ""))
        self._record_invocation({"i": (self.in_flight or {}).get("i", 0),
                                 "ms": self.spec.timeout_s * 1000.0, "error": error, "result": None})

    def _mark_oom(self) -> None:
        self.sandbox.kill_all()
        result = self.result
        result.oom = True
        if result.error is None or self.in_flight is not None:
            error = _oom_error(self.memory_mb, (self.in_flight or {}).get("request_id", ""))
            if self.in_flight is not None:
                ms = (time.monotonic() - self.in_flight["at"]) * 1000.0
                self._record_invocation({"i": self.in_flight["i"], "ms": ms, "error": error, "result": None})
            else:
                result.error = result.error or error
                result.errors += 1

    def finish(self) -> None:
        """Kill whatever is left, reap the child, read its log, delete the temp dir.

        Ctrl-C is held off meanwhile (main thread only) so a second one cannot leave a
        stopped or running child behind.
        """
        blocked = _on_main_thread() and hasattr(signal, "pthread_sigmask")
        if blocked:
            previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            self._teardown()
        finally:
            if blocked:
                signal.pthread_sigmask(signal.SIG_SETMASK, previous)

    def _teardown(self) -> None:
        if self.proc is not None and self.sandbox is not None:
            if self.finished_cleanly:
                grace = time.monotonic() + _EXIT_GRACE_S
                while not _child_exited(self.proc.pid) and time.monotonic() < grace:
                    time.sleep(0.005)
            self.sandbox.stop_watchdog()
            self.sandbox.kill_all()  # before reaping: the group id stays reserved until then
            _wait_for_group_gone(self.proc.pid, self.sandbox)
            self._reap()
        if self.sandbox is not None:
            self.sandbox.close()
        for fd in list(self.fds):
            self._close_fd(fd)
        if self.tmp is not None:
            self.result.log_tail = _tail(self.tmp / "function.log")
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None
        self.result.wall_s = time.monotonic() - self.t_spawn

    def _reap(self) -> None:
        """wait4 the child, for its exit status and its rusage peak RSS (ru_maxrss, KiB on Linux)."""
        pid, deadline = self.proc.pid, time.monotonic() + 5.0
        while True:
            try:
                done_pid, status, usage = os.wait4(pid, os.WNOHANG)
            except ChildProcessError:
                return
            if done_pid == pid:
                break
            if time.monotonic() > deadline:
                return  # stuck in the kernel (D state); Popen will reap it later
            time.sleep(0.005)
        code = os.waitstatus_to_exitcode(status)
        self.proc.returncode = code
        self._interpret_exit(code, usage.ru_maxrss)
        self.proc = None

    def _peak_rss_mb(self, maxrss_kb: int) -> Optional[float]:
        """The child's peak resident memory, from what is known to be the child's own.

        The runner reports its VmHWM after init and after every invocation, and the watchdog
        reads it every 10 ms; together they see every peak except one in the last moments of
        a child that then died without reporting. wait4's ru_maxrss would see that too, but it
        also carries the peak of the address space the child replaced at exec, which after
        fork/vfork is ours: a hello world spawned by a 200 MB harness "peaked" at 200 MB and
        was reported out of memory at 128 MB. So ru_maxrss counts only when it exceeds our own
        peak at spawn, which bounds that inherited part: then it is the child's (or its own
        children's, which it includes as well). None when nothing of the child's was seen.
        """
        own_kb = max(self.reported_peak_kb, self.sandbox.peak_rss_bytes // 1024)
        if maxrss_kb > self.harness_maxrss_kb:
            own_kb = max(own_kb, maxrss_kb)
        return own_kb / 1024.0 if own_kb else None

    def _interpret_exit(self, code: int, maxrss_kb: int) -> None:
        result = self.result
        peak = self.sandbox.cgroup_peak_bytes()
        result.peak_rss_mb = peak / (1024 * 1024) if peak else self._peak_rss_mb(maxrss_kb)
        result.exit_status = f"exit status {code}" if code >= 0 else f"signal {-code}"
        if (self.backend.memory == "rlimit" and result.peak_rss_mb is not None
                and result.peak_rss_mb > self.memory_mb and not result.oom):
            return self._mark_oom()  # a spike the watchdog's last poll did not see: Lambda kills it
        if self.finished_cleanly or result.timed_out or result.oom:
            return
        if code == _OOM_EXIT or (code == -signal.SIGKILL and self.sandbox.cgroup_oom_killed()):
            return self._mark_oom()
        error = _exit_error(code)
        if self.in_flight is not None:
            ms = (time.monotonic() - self.in_flight["at"]) * 1000.0
            self._record_invocation({"i": self.in_flight["i"], "ms": ms, "error": error, "result": None})
        else:
            result.error = result.error or error
            result.errors += 1
            if result.init_ms is None:
                result.init_error = error


def group_members(pgid: int) -> list:
    """Live (non-zombie) processes in process group `pgid`, from a scan of /proc."""
    members = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != b"Z":
            members.append(int(entry.name))
    return members


def _wait_for_group_gone(pgid: int, sandbox: TierSandbox, wait_s: float = 2.0) -> None:
    """After SIGKILL, wait until no member of the group is alive (the leader is a zombie)."""
    deadline = time.monotonic() + wait_s
    while group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.01)
        sandbox.kill_all()


def _on_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _tail(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - _LOG_TAIL_BYTES))
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return ""


def run_tier(spec: ProfileSpec, memory_mb: int, backend: BackendChoice,
             on_event: Optional[ProgressCallback] = None) -> TierResult:
    """Profile one memory size in a fresh child; always kills and cleans up, even on Ctrl-C."""
    run = _TierRun(spec, memory_mb, backend, on_event)
    try:
        run.start()
        run.pump()
    finally:
        run.finish()
    return run.result


def run_profile(spec: ProfileSpec, on_event: Optional[ProgressCallback] = None) -> ProfileRun:
    """Profile every memory size in turn (never in parallel: tiers would compete for CPU)."""
    if not sys.platform.startswith("linux"):
        raise ProfilerError("the profiler needs Linux (process CPU clocks, /proc, cgroups); "
                            "run it in a Linux container or CI job")
    try:
        backend = detect_backend(spec.backend)
    except BackendUnavailable as exc:
        raise ProfilerError(str(exc)) from None
    tiers = []
    for memory_mb in spec.memory_sizes:
        if on_event:
            on_event("tier", memory_mb, {})
        tiers.append(run_tier(spec, memory_mb, backend, on_event))
        if on_event:
            on_event("tier-done", memory_mb, {"result": tiers[-1]})
    return ProfileRun(spec=spec, backend=backend, tiers=tiers)
