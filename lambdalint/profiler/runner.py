"""Child-process entry point of the profiler: one fresh interpreter per memory tier.

Run as a script (`python runner.py CONFIG_JSON`), never imported by the user's code. It uses the
standard library only, so any Python 3.10+ that has the handler's dependencies can run it, and
it keeps lambdalint out of the handler's process.

Sequence, mirroring a Lambda execution environment:

1. note the time the interpreter reached us (the harness noted the spawn time: the difference
   is interpreter start-up), join the tier's cgroups and set its rlimits *before* any user code;
2. load the modules the Lambda runtime interface client has already loaded when it imports the
   handler, so the handler's import is measured for what it adds on Lambda;
3. import the handler module (timed: this is the user's share of the cold start), report
   "ready" and wait for the harness to switch the CPU throttle on (init is not throttled);
4. run the invocations, each with a fresh event and context, timing handler + response
   marshalling, and report each result or Lambda-shaped error over the message pipe.

Messages are JSON lines on the file descriptor given in the config; the harness answers on a
control descriptor. The handler's own stdout/stderr go wherever the harness pointed them.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback

# Wall-clock reference shared with the harness: CLOCK_MONOTONIC is system-wide on Linux.
_T_MAIN = time.monotonic()

# What awslambdaric's bootstrap and marshaller import before `_get_handler` runs. A handler
# that imports these again pays nothing on Lambda, so it must pay nothing here either.
_RUNTIME_PRELOADED = ("decimal", "logging", "math")

MAX_SYNC_RESPONSE_BYTES = 6 * 1024 * 1024
_PREVIEW_CHARS = 2000
_OOM_EXIT = 86  # exit status when the runner itself cannot allocate any more


class _Channel:
    """JSON-lines messages to the harness, and a blocking wait for its go-ahead."""

    def __init__(self, msg_fd: int, ctl_fd: int) -> None:
        self.msg_fd = msg_fd
        self.ctl_fd = ctl_fd

    def send(self, **message: object) -> None:
        data = (json.dumps(message, default=str) + "\n").encode()
        while data:
            written = os.write(self.msg_fd, data)
            data = data[written:]

    def wait_for_go(self) -> bool:
        return os.read(self.ctl_fd, 1) == b"g"


def _apply_limits(config: dict) -> None:
    """Join the tier's cgroups and cap memory before any user code runs."""
    for procs_file in config.get("cgroup_procs", []):
        with open(procs_file, "w") as fh:
            fh.write(str(os.getpid()))
    if config.get("cpu_affinity") and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, config["cpu_affinity"])
    try:
        import resource
    except ImportError:  # not POSIX: the harness refuses to run there anyway
        return
    data_bytes = config.get("rlimit_data_bytes")
    if data_bytes:
        resource.setrlimit(resource.RLIMIT_DATA, (data_bytes, data_bytes))
    # Lambda allows 1,024 open file descriptors per execution environment.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    cap = 1024 if hard == resource.RLIM_INFINITY else min(1024, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (cap, hard))


def _boost_priority() -> bool:
    """Run ahead of other work on this machine, when allowed (root or CAP_SYS_NICE).

    Lambda gives a function its CPU share undisturbed; a busy developer machine does not. We
    are the only process in our session, so raising our session's autogroup (which is what
    the scheduler weighs against other sessions when autogrouping is on) and our own nice
    value affects nobody else's priorities, and both vanish with us. In a cgroup the harness
    raises the cgroup's weight instead.
    """
    boosted = False
    try:
        with open("/proc/self/autogroup", "w") as fh:
            fh.write("-10")
        boosted = True
    except OSError:
        pass
    try:
        os.setpriority(os.PRIO_PROCESS, 0, -10)
        boosted = True
    except (OSError, AttributeError):
        pass
    return boosted


def _run_queue_wait_ms() -> float:
    """Time this thread spent runnable but waiting for a CPU (/proc/self/schedstat, field 2)."""
    try:
        with open("/proc/self/schedstat") as fh:
            return int(fh.read().split()[1]) / 1e6
    except (OSError, IndexError, ValueError):
        return 0.0


def _throttled_ms(config: dict) -> float:
    """CFS throttling of our cgroup so far (0 without a cgroup CPU backend)."""
    path, key = config.get("cpu_stat"), config.get("throttled_key")
    if not path:
        return 0.0
    try:
        with open(path) as fh:
            for line in fh:
                name, _, value = line.partition(" ")
                if name == key:
                    return int(value) * config["throttled_scale"]
    except (OSError, ValueError):
        pass
    return 0.0


def _die_with_parent() -> None:
    """Ask the kernel to SIGKILL us if the harness dies without cleaning up (Linux only)."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
    except Exception:  # no libc prctl (not Linux): the harness's process-group kill remains
        pass


def _error(exc: BaseException, request_id: str = "", skip_runner_frames: bool = True) -> dict:
    """The error object Lambda returns for an unhandled exception (runtime frames dropped)."""
    frames = traceback.extract_tb(exc.__traceback__)
    if skip_runner_frames:
        frames = [f for f in frames if os.path.abspath(f.filename) != os.path.abspath(__file__)]
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(frames),
    }


def _fault(error_type: str, message: str, request_id: str = "", trace: list | None = None) -> dict:
    return {"errorMessage": message, "errorType": error_type, "requestId": request_id,
            "stackTrace": trace or []}


def _import_handler(module_name: str, function_name: str):
    """Import the handler the way the Lambda runtime does, with Lambda's error types."""
    try:
        module = importlib.import_module(module_name)
    except MemoryError:
        raise
    except ImportError as exc:
        raise _InitFault(_fault("Runtime.ImportModuleError",
                                f"Unable to import module '{module_name}': {exc}")) from exc
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        raise _InitFault(_fault("Runtime.UserCodeSyntaxError",
                                f"Syntax error in module '{module_name}': {exc}", trace=trace)) from exc
    except Exception as exc:  # an exception raised by module-level code
        raise _InitFault(_error(exc)) from exc
    handler = getattr(module, function_name, None)
    if handler is None:
        raise _InitFault(_fault("Runtime.HandlerNotFound",
                                f"Handler '{function_name}' missing on module '{module_name}'"))
    return handler


class _InitFault(Exception):
    def __init__(self, error: dict) -> None:
        super().__init__(error["errorMessage"])
        self.error = error


def _marshal(response: object) -> bytes:
    """Serialise the response as the runtime would (Decimal allowed, bytes passed through)."""
    if isinstance(response, (bytes, bytearray)):
        return bytes(response)
    import decimal

    def fallback(obj: object) -> object:
        if isinstance(obj, decimal.Decimal):
            return int(obj) if obj == obj.to_integral_value() else float(obj)
        raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")

    return json.dumps(response, default=fallback).encode()


def _load_context_module(path: str):
    """Load context.py by file path under a private name (no lambdalint package import)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_lambdalint_profiler_context", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _invoke(handler, event_text: str, context, index: int, config: dict) -> dict:
    """One invocation: fresh event and context, timed handler call plus marshalling."""
    event = json.loads(event_text)  # a fresh copy: mutations must not leak into the next call
    os.environ["_X_AMZN_TRACE_ID"] = f"Root=1-{int(time.time()):08x}-{os.urandom(12).hex()};Sampled=0"
    outcome: dict = {"i": index, "request_id": context.aws_request_id, "error": None,
                     "oom": False, "stop": False, "result": None, "result_bytes": 0}
    wait_started, throttled_started = _run_queue_wait_ms(), _throttled_ms(config)
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        response = handler(event, context)
        try:
            payload = _marshal(response)
        except (TypeError, ValueError) as exc:
            outcome["error"] = _fault("Runtime.MarshalError", f"Unable to marshal response: {exc}",
                                      context.aws_request_id)
        else:
            outcome["result_bytes"] = len(payload)
            outcome["result"] = payload[:_PREVIEW_CHARS].decode("utf-8", "replace")
            if len(payload) > MAX_SYNC_RESPONSE_BYTES:
                outcome["error"] = _fault(
                    "Function.ResponseSizeTooLarge",
                    f"Response payload size ({len(payload)} bytes) exceeded maximum allowed "
                    f"payload size ({MAX_SYNC_RESPONSE_BYTES} bytes).", context.aws_request_id)
    except MemoryError as exc:
        # On Lambda the kernel kills the runtime instead; locally the memory cap makes the
        # allocation fail. Either way the environment is gone, so the tier stops here. The
        # error is Lambda's, with the MemoryError's traceback to show where it happened.
        error = _error(exc, context.aws_request_id)
        error.update(errorType="Runtime.OutOfMemory", errorMessage=(
            f"RequestId: {context.aws_request_id} Error: Runtime exited with error: signal: killed "
            f"(MemoryError: the handler needed more than the {context.memory_limit_in_mb} MB memory size)"))
        outcome.update(oom=True, stop=True, error=error)
    except SystemExit as exc:
        outcome.update(stop=True, error=_fault(
            "Runtime.ExitError",
            f"RequestId: {context.aws_request_id} Error: Runtime exited with error: "
            f"exit status {exc.code if isinstance(exc.code, int) else 1}", context.aws_request_id))
    except Exception as exc:
        outcome["error"] = _error(exc, context.aws_request_id)
    outcome["ms"] = (time.perf_counter() - started) * 1000.0
    outcome["cpu_ms"] = (time.process_time() - cpu_started) * 1000.0
    # Waiting on a run queue = held back by our own CFS quota (a throttled task still counts
    # as runnable) or by other processes. Only the latter is noise; report it separately.
    waited = _run_queue_wait_ms() - wait_started
    outcome["contention_ms"] = max(0.0, waited - (_throttled_ms(config) - throttled_started))
    return outcome


def _peak_rss_kb() -> int | None:
    """Our peak resident size since exec (VmHWM), in KiB; None if /proc cannot tell.

    Not getrusage's ru_maxrss: it keeps the peak of the address space we replaced at exec,
    which after the harness's fork/vfork is the harness's own peak, not ours.
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, IndexError, ValueError):
        pass
    return None


def _initialise(config: dict, channel: _Channel):
    """Steps 1-3 of the module docstring. Returns the handler, or None after reporting why not."""
    _apply_limits(config)
    boosted = _boost_priority()
    for name in _RUNTIME_PRELOADED:
        importlib.import_module(name)
    context_module = _load_context_module(config["context_py"])
    task_root = config["task_root"]
    sys.path[0] = task_root  # Lambda puts /var/task first; our own directory must not be there
    os.chdir(task_root)
    setup_done = time.monotonic()
    try:
        handler = _import_handler(config["module"], config["function"])
    except _InitFault as fault:
        channel.send(t="init_error", error=fault.error, oom=False, peak_rss_kb=_peak_rss_kb(),
                     import_ms=(time.monotonic() - setup_done) * 1000.0)
        return None, context_module
    except MemoryError as exc:
        channel.send(t="init_error", error=_error(exc), oom=True, peak_rss_kb=_peak_rss_kb(),
                     import_ms=(time.monotonic() - setup_done) * 1000.0)
        return None, context_module
    import_ms = (time.monotonic() - setup_done) * 1000.0
    channel.send(t="ready", main=_T_MAIN, setup_ms=(setup_done - _T_MAIN) * 1000.0,
                 import_ms=import_ms, modules=len(sys.modules), peak_rss_kb=_peak_rss_kb(), boosted=boosted)
    return handler, context_module


def main(argv: list) -> int:
    config = json.loads(argv[1])
    channel = _Channel(config["msg_fd"], config["ctl_fd"])
    handler, context_module = _initialise(config, channel)
    if handler is None:
        return 0
    _die_with_parent()
    if not channel.wait_for_go():
        return 0
    with open(config["event_path"], encoding="utf-8") as fh:
        event_text = fh.read()

    def make_context():
        return context_module.LambdaContext(
            function_name=config["function_name"], memory_limit_in_mb=config["memory_mb"],
            timeout_s=config["timeout_s"], region=config["region"],
            log_stream_name=os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME"))

    for index in range(config["invocations"]):
        context = make_context()
        channel.send(t="start", i=index, at=time.monotonic(), request_id=context.aws_request_id)
        outcome = _invoke(handler, event_text, context, index, config)
        channel.send(t="end", peak_rss_kb=_peak_rss_kb(), **outcome)
        if outcome["stop"]:
            break
    channel.send(t="done", peak_rss_kb=_peak_rss_kb())
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except MemoryError:
        # The cap was hit outside the handler (in the runner's own bookkeeping).
        os._exit(_OOM_EXIT)
