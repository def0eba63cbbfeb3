"""CPU and memory limits for one memory tier's child process, and how to enforce them here.

Lambda gives a function CPU in proportion to its memory: 1,769 MB is one vCPU, and below that
the function gets that fraction of one core, enforced by a CFS quota (a share of each scheduling
period). We reproduce it with, in order of preference:

* cgroup v2: `cpu.max` (quota and period) and `memory.max` in a child cgroup of our own;
* cgroup v1: `cpu.cfs_quota_us` / `cpu.cfs_period_us` in the cpu hierarchy;
* a portable duty cycle: a supervisor thread meters the child's CPU time against the same
  quota per period and stops (SIGSTOP) the child's process group when the period's quota is
  spent, continuing it (SIGCONT) at the next period. Overshoot is carried over as debt, so the
  long-run CPU share is exact even though a user-space thread reacts late.

Memory is capped with cgroup v2 `memory.max` when available. Otherwise a watchdog kills the
process group as soon as its peak resident size (VmHWM, which the kernel keeps exactly, so a
short spike between two polls still counts) passes the tier, as Lambda's OOM kill would; an
RLIMIT_DATA well above the tier (`rlimit_data_bytes`) is only a backstop against allocating the
machine's memory away between two polls. RLIMIT_DATA alone would be wrong: it counts writable
private address space, not memory used, and ran out at ~190 MB of RSS at 256 MB. Most of that
difference is thread stacks: each thread maps its whole default stack (RLIMIT_STACK, 8 MiB)
writable, and it counts although almost none of it is ever touched. glibc's per-thread malloc
arenas do not matter here: their 64 MiB reservations are PROT_NONE until used, so they grow
VmSize, not VmData (measured: 24 threads added ~200 MB of VmData with or without
MALLOC_ARENA_MAX=2, which is therefore not set: it would change the handler's allocator
behaviour from Lambda's for nothing).
The v1 memory controller is deliberately not used: nesting under whatever v1 memory cgroup the
harness was started in (a container's, a CI runner's) is not ours to change, and the watchdog
gives the same observable result.

Only the handler's invocations are throttled: `TierSandbox.start_throttle` is called once the
child has finished init, because Lambda's published cold starts are flat across memory sizes.
"""

from __future__ import annotations

import errno
import os
import signal
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Optional

ONE_VCPU_MB = 1769
MIN_MEMORY_MB = 128
MAX_MEMORY_MB = 10240
CPU_PERIOD_S = 0.020  # a short period keeps short invocations throttled evenly
_MIN_SLICE_S = 0.0005
_RSS_POLL_S = 0.010
_CGROUP_PREFIX = "lambdalint-profile"
# Ten times the default group weight (v1 cpu.shares 1024, v2 cpu.weight 100): the quota still
# caps the tier, but other work on the machine no longer eats into it (a measured run-queue
# wait of ~50% at 1,769 MB on a busy 2-core machine drops to ~0).
_BOOSTED_SHARES = 10240
_BOOSTED_WEIGHT = 1000

BACKEND_MODES = ("auto", "cgroup", "portable")


class BackendUnavailable(Exception):
    """The requested enforcement backend cannot be used on this machine."""


def available_cores() -> int:
    """Cores this process may run on (affinity-aware, so containers' cpusets count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def cpu_share(memory_mb: int, cores: Optional[int] = None) -> float:
    """Lambda's CPU for a memory size, in cores: memory / 1,769 MB, capped at the cores here."""
    cores = available_cores() if cores is None else cores
    return min(memory_mb / ONE_VCPU_MB, float(cores))


def pinned_cpu(share: float) -> Optional[int]:
    """The one CPU a tier of at most one core's share runs on, or None to leave it free.

    Such a tier cannot use more than one core anyway. Left free, the scheduler moves it to
    whichever core is idle each time its quota refills, and on a busy machine every move means
    cold caches: in our measurements that made throttled tiers 15-20 % slower per unit of work
    than the 1,769 MB tier, on top of the intended slowdown. The highest-numbered CPU is used
    because CPU 0 tends to take more interrupts.
    """
    try:
        allowed = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None
    if share > 1.0 or len(allowed) < 2:
        return None
    return allowed[-1]


# --- detection -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BackendChoice:
    """Which mechanism enforces CPU and memory, and why the better ones were not used."""

    cpu: str  # "cgroup2", "cgroup1" or "dutycycle"
    memory: str  # "cgroup2" or "rlimit"
    cpu_dir: Optional[str] = None  # parent cgroup directory for the CPU controller
    memory_dir: Optional[str] = None  # parent cgroup directory for the memory controller
    notes: tuple = ()

    def describe(self) -> str:
        """The one line printed with every profile run."""
        period_ms = int(CPU_PERIOD_S * 1000)
        cpu = {
            "cgroup2": f"cgroup v2 cpu.max (CFS quota, {period_ms} ms period)",
            "cgroup1": f"cgroup v1 cpu.cfs_quota_us (CFS quota, {period_ms} ms period)",
            "dutycycle": f"duty cycle (SIGSTOP/SIGCONT on the CPU-time quota, {period_ms} ms period)",
        }[self.cpu]
        memory = {
            "cgroup2": "cgroup v2 memory.max",
            "rlimit": "peak-RSS watchdog (+ RLIMIT_DATA backstop)",
        }[self.memory]
        return f"cpu: {cpu}; memory: {memory}"

    def to_dict(self) -> dict:
        return {"cpu": self.cpu, "memory": self.memory, "description": self.describe(),
                "notes": list(self.notes)}


def _read(path: Path) -> str:
    return path.read_text().strip()


def _own_cgroups() -> dict[str, str]:
    """Map controller name (or "" for the v2 unified hierarchy) to this process's cgroup path."""
    paths: dict[str, str] = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return paths
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if parts[0] == "0" and parts[1] == "":
            paths[""] = parts[2]
        for controller in parts[1].split(","):
            if controller:
                paths[controller] = parts[2]
    return paths


def _cgroup_mounts() -> list[tuple[str, str, str, set]]:
    """(fstype, mount point, mount root, super options) of every cgroup mount."""
    mounts = []
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return mounts
    for line in lines:
        left, _, right = line.partition(" - ")
        fields, rest = left.split(), right.split()
        if len(rest) >= 3 and rest[0] in ("cgroup", "cgroup2"):
            mounts.append((rest[0], fields[4], fields[3], set(rest[2].split(","))))
    return mounts


def _cgroup_dir(mount_point: str, mount_root: str, own_path: str) -> Optional[Path]:
    """The directory of our own cgroup under a mount (the mount may expose a sub-tree only)."""
    if mount_root != "/" and own_path.startswith(mount_root):
        own_path = own_path[len(mount_root):] or "/"
    elif mount_root != "/":
        return None
    directory = Path(mount_point) / own_path.lstrip("/")
    return directory if directory.is_dir() else None


def _probe_mkdir(parent: Path, needed_files: tuple) -> Optional[str]:
    """Create and remove a child cgroup; None if that works and the files exist, else why not."""
    probe = parent / f"{_CGROUP_PREFIX}-probe-{os.getpid()}"
    try:
        probe.mkdir()
    except OSError as exc:
        return f"cannot create a cgroup under {parent}: {exc.strerror}"
    try:
        missing = [name for name in needed_files if not (probe / name).exists()]
        return f"{', '.join(missing)} missing in a child of {parent}" if missing else None
    finally:
        try:
            probe.rmdir()
        except OSError:
            pass


def _detect_v2(own: dict, mounts: list, notes: list) -> tuple[Optional[Path], set]:
    """Our v2 cgroup directory and which of cpu/memory we may use in a child of it.

    We never enable controllers ourselves (writing `cgroup.subtree_control` changes the
    machine's configuration); they must already be delegated to our cgroup, as
    `systemd-run --scope -p Delegate=yes` or a container runtime with delegation does.
    """
    if "" not in own:
        notes.append("cgroup v2: this process is not in a v2 hierarchy")
        return None, set()
    for fstype, mount_point, root, _ in mounts:
        if fstype != "cgroup2":
            continue
        directory = _cgroup_dir(mount_point, root, own[""])
        if directory is None:
            continue
        try:
            offered = set(_read(directory / "cgroup.controllers").split()) & {"cpu", "memory"}
            delegated = set(_read(directory / "cgroup.subtree_control").split()) & offered
        except OSError as exc:
            notes.append(f"cgroup v2: cannot read {directory}: {exc.strerror}")
            return None, set()
        if not delegated:
            why = ("has no cpu/memory controllers (they are bound to cgroup v1 here)" if not offered
                   else "does not delegate cpu/memory to child cgroups (cgroup.subtree_control)")
            notes.append(f"cgroup v2: {directory} {why}")
            return None, set()
        needed = tuple(f"{name}.max" for name in sorted(delegated))
        reason = _probe_mkdir(directory, needed)
        if reason:
            notes.append(f"cgroup v2: {reason}")
            return None, set()
        return directory, delegated
    notes.append("cgroup v2: not mounted")
    return None, set()


def _detect_v1_cpu(own: dict, mounts: list, notes: list) -> Optional[Path]:
    """Our directory in the v1 cpu hierarchy, if we can create child cgroups with a CFS quota."""
    if "cpu" not in own:
        notes.append("cgroup v1: no cpu hierarchy")
        return None
    for fstype, mount_point, root, options in mounts:
        if fstype != "cgroup" or "cpu" not in options:
            continue
        directory = _cgroup_dir(mount_point, root, own["cpu"])
        if directory is None:
            continue
        reason = _probe_mkdir(directory, ("cpu.cfs_quota_us", "cpu.cfs_period_us", "cgroup.procs"))
        if reason:
            notes.append(f"cgroup v1: {reason}")
            return None
        return directory
    notes.append("cgroup v1: cpu controller not mounted")
    return None


def sweep_stale_cgroups(parent: Path) -> list:
    """Remove tier cgroups left by a harness that was killed outright (SIGKILL, power loss).

    Its runner died with it (PR_SET_PDEATHSIG), but processes the handler started may still
    be inside; the group name carries the harness pid, so a group whose harness is gone is
    ours to clean: kill what is in it, then remove it. Returns the groups removed.
    """
    removed = []
    for directory in parent.glob(f"{_CGROUP_PREFIX}-*-*"):
        owner = directory.name[len(_CGROUP_PREFIX) + 1:].split("-")[0]
        if not owner.isdigit() or Path(f"/proc/{owner}").exists():
            continue
        _kill_cgroup_members(directory)
        _remove_cgroup(directory)
        if not directory.exists():
            removed.append(directory)
    return removed


@lru_cache(maxsize=None)
def detect_backend(mode: str = "auto") -> BackendChoice:
    """Pick the best enforcement this machine allows ("auto"), or insist on one.

    mode "cgroup" fails with BackendUnavailable when no cgroup CPU quota can be set;
    "portable" always uses the duty cycle and the RSS watchdog (useful to compare backends).
    """
    if mode not in BACKEND_MODES:
        raise ValueError(f"unknown backend mode {mode!r}")
    if mode == "portable":
        return BackendChoice(cpu="dutycycle", memory="rlimit", notes=("portable backend requested",))
    notes: list[str] = []
    own, mounts = _own_cgroups(), _cgroup_mounts()
    v2_dir, v2_controllers = _detect_v2(own, mounts, notes)
    cpu, cpu_dir = "dutycycle", None
    if "cpu" in v2_controllers:
        cpu, cpu_dir = "cgroup2", str(v2_dir)
    else:
        v1_dir = _detect_v1_cpu(own, mounts, notes)
        if v1_dir is not None:
            cpu, cpu_dir = "cgroup1", str(v1_dir)
    memory, memory_dir = ("cgroup2", str(v2_dir)) if "memory" in v2_controllers else ("rlimit", None)
    if mode == "cgroup" and cpu == "dutycycle":
        raise BackendUnavailable("no writable cgroup CPU controller here: " + "; ".join(notes))
    for parent in {cpu_dir, memory_dir} - {None}:
        sweep_stale_cgroups(Path(parent))
    return BackendChoice(cpu=cpu, memory=memory, cpu_dir=cpu_dir, memory_dir=memory_dir,
                         notes=tuple(notes))


# --- enforcement for one tier --------------------------------------------------------------


def process_cpu_reader(pid: int) -> Callable[[], float]:
    """A function returning the cumulative CPU seconds of process `pid` (all its threads).

    Linux exposes every process's scheduler clock as a clock id (what clock_getcpuclockid(3)
    computes): nanosecond resolution, unlike /proc/PID/stat's 10 ms ticks, which are too coarse
    for a 20 ms period. The tick counter remains as a fallback.
    """
    clock_id = ((~pid) << 3) | 2  # CPUCLOCK_SCHED for the whole thread group
    try:
        time.clock_gettime(clock_id)
        return lambda: time.clock_gettime(clock_id)
    except (OSError, OverflowError, AttributeError):
        pass
    ticks = os.sysconf("SC_CLK_TCK")
    stat_path = Path(f"/proc/{pid}/stat")

    def from_proc() -> float:
        fields = stat_path.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime

    return from_proc


def process_peak_rss_bytes(pid: int) -> int:
    """Peak resident set size of `pid` since it exec'd (VmHWM in /proc/PID/status).

    VmHWM belongs to the process's current address space, so it starts afresh at exec. The
    rusage figure (ru_maxrss, also what wait4 returns) does not: the kernel carries the old
    address space's peak across exec, and after fork/vfork that is the *parent's*, so a child
    of a 200 MB harness reports at least 200 MB whatever it runs.
    """
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise ValueError("no VmHWM (zombie)")


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class DutyCycle:
    """CFS-quota semantics in user space: `share` cores of CPU time per period, debt carried.

    At each period boundary the budget is refilled by share*period but never above it (unused
    quota is lost, as in CFS without burst). Whenever the child has spent its budget it is
    stopped until the next boundary. Reading the CPU clock rather than assuming the child ran
    flat out between wake-ups is what makes it count only CPU actually used: a handler waiting
    on I/O or sleeping is never charged for wall time.
    """

    def __init__(self, pgid: int, read_cpu: Callable[[], float], share: float,
                 period: float = CPU_PERIOD_S,
                 send_signal: Optional[Callable[[int, int], None]] = None) -> None:
        self.pgid, self.read_cpu, self.period = pgid, read_cpu, period
        self.send_signal = send_signal or _signal_group
        self.quota = share * period
        self.budget = self.quota
        self.period_end: Optional[float] = None
        self.last_cpu = 0.0
        self.running = True

    def step(self, now: float) -> float:
        """Account, stop or continue the child; return when to be called next."""
        if self.period_end is None:
            self.period_end, self.last_cpu = now + self.period, self.read_cpu()
        # Charge what was used since the last step before refilling: when we wake late, the
        # usage belongs to the period that just ended, and refilling first would cap (lose)
        # that period's remaining credit and then charge its usage to the new one.
        cpu = self.read_cpu()
        self.budget -= cpu - self.last_cpu
        self.last_cpu = cpu
        if now >= self.period_end:
            elapsed_periods = int((now - self.period_end) // self.period) + 1
            self.period_end += elapsed_periods * self.period
            self.budget = min(self.budget + elapsed_periods * self.quota, self.quota)
        if self.running and self.budget <= 0:
            self.send_signal(self.pgid, signal.SIGSTOP)
            self.running = False
        elif not self.running and self.budget > 0:
            self.send_signal(self.pgid, signal.SIGCONT)
            self.running = True
        if self.running:
            # At most one core's worth of the remaining budget: a single thread cannot spend
            # it faster; a multi-threaded overshoot becomes debt repaid next period.
            return min(self.period_end, now + max(self.budget, _MIN_SLICE_S))
        return self.period_end

    def release(self) -> None:
        if not self.running:
            self.send_signal(self.pgid, signal.SIGCONT)
            self.running = True


_MIB = 1024 * 1024
_RLIMIT_HEADROOM = 2  # RLIMIT_DATA = this x the tier + thread stacks: a backstop only
# Address space for 64 threads' default 8 MiB stacks (ThreadPoolExecutor alone may start 32):
# it counts against RLIMIT_DATA but is not memory used, which only the watchdog judges.
_THREAD_STACKS_BYTES = 64 * 8 * _MIB
_tier_counter = iter(range(1, 1 << 62))


def _write(path: Path, value: str) -> None:
    path.write_text(value)


def rlimit_data_bytes(limit_bytes: int) -> int:
    """The RLIMIT_DATA backstop of a tier capped at `limit_bytes` by the RSS watchdog.

    RLIMIT_DATA counts writable private mappings, used or not: a handler that starts a thread
    pool maps 8 MiB of stack per thread and touches a few KiB of each. At twice the tier alone,
    ~28 threads exhausted it at 128 MB ("can't start new thread") with 20 MB resident, where
    Lambda, which counts memory used, runs them. So the backstop adds room for thread stacks;
    it still stops a runaway allocation (e.g. `bytearray(4 GiB)`) with a MemoryError at once.
    """
    return _RLIMIT_HEADROOM * limit_bytes + _THREAD_STACKS_BYTES


class TierSandbox:
    """The CPU and memory limits of one tier's child, from before spawn until after cleanup.

    Lifecycle: create (makes the cgroups), `child_config()` goes to the runner (which joins the
    cgroups and sets its rlimit before any user code), `attach(pid)` once spawned (starts the
    watchdog thread), `start_throttle()` once init is done, `kill_all()` and `close()` at the end.
    """

    def __init__(self, choice: BackendChoice, memory_mb: int, cores: Optional[int] = None) -> None:
        self.choice, self.memory_mb = choice, memory_mb
        self.cores = available_cores() if cores is None else cores
        self.share = cpu_share(memory_mb, self.cores)
        self.limit_bytes = memory_mb * _MIB
        self.oom = False  # set by the watchdog when it killed the child for its memory
        self.peak_rss_bytes = 0  # the highest VmHWM the watchdog read (it runs with "rlimit")
        self._cgroups: list[Path] = []
        self._cpu_dir: Optional[Path] = None
        self._memory_dir: Optional[Path] = None
        self._pid: Optional[int] = None
        self._duty: Optional[DutyCycle] = None
        self._throttling = threading.Event()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        try:
            self._make_cgroups()
        except OSError:
            self.close()
            raise

    def _new_cgroup(self, parent: str) -> Path:
        directory = Path(parent) / f"{_CGROUP_PREFIX}-{os.getpid()}-{next(_tier_counter)}"
        directory.mkdir()
        self._cgroups.append(directory)
        return directory

    def _make_cgroups(self) -> None:
        period_us = int(CPU_PERIOD_S * 1_000_000)
        if self.choice.cpu == "cgroup1":
            self._cpu_dir = self._new_cgroup(self.choice.cpu_dir)
            _write(self._cpu_dir / "cpu.cfs_period_us", str(period_us))
            _write(self._cpu_dir / "cpu.cfs_quota_us", "-1")  # unthrottled during init
            _write(self._cpu_dir / "cpu.shares", str(_BOOSTED_SHARES))
        elif self.choice.cpu == "cgroup2":
            self._cpu_dir = self._new_cgroup(self.choice.cpu_dir)
            _write(self._cpu_dir / "cpu.max", f"max {period_us}")
            _write(self._cpu_dir / "cpu.weight", str(_BOOSTED_WEIGHT))
        if self.choice.memory == "cgroup2":
            same = self.choice.cpu == "cgroup2" and self.choice.memory_dir == self.choice.cpu_dir
            self._memory_dir = self._cpu_dir if same else self._new_cgroup(self.choice.memory_dir)
            _write(self._memory_dir / "memory.max", str(self.limit_bytes))
            try:  # without this the tier would swap instead of running out of memory
                _write(self._memory_dir / "memory.swap.max", "0")
            except OSError:
                pass

    def child_config(self) -> dict:
        """What the runner applies to itself before importing the handler."""
        config = {
            "cgroup_procs": [str(d / "cgroup.procs") for d in self._cgroups],
            "rlimit_data_bytes": rlimit_data_bytes(self.limit_bytes) if self.choice.memory == "rlimit" else None,
        }
        cpu = pinned_cpu(self.share)
        if cpu is not None:
            config["cpu_affinity"] = [cpu]
        if self._cpu_dir is not None:  # lets the runner tell quota throttling from contention
            v1 = self.choice.cpu == "cgroup1"
            config.update(cpu_stat=str(self._cpu_dir / "cpu.stat"),
                          throttled_key="throttled_time" if v1 else "throttled_usec",
                          throttled_scale=1e-6 if v1 else 1e-3)
        return config

    @property
    def throttled(self) -> bool:
        """False when the share is at least every core here: nothing to throttle."""
        return self.share < self.cores

    def attach(self, pid: int) -> None:
        """Start watching the spawned child (RSS watchdog now, duty cycle once throttled)."""
        self._pid = pid
        if self.choice.cpu == "dutycycle" and self.throttled:
            self._duty = DutyCycle(pid, process_cpu_reader(pid), self.share)
        if self.choice.memory == "rlimit" or self._duty is not None:
            self._thread = threading.Thread(target=self._supervise, name=f"lambdalint-tier-{self.memory_mb}",
                                            daemon=True)
            self._thread.start()

    def start_throttle(self) -> None:
        """Init is over: from now on the child gets only its tier's share of CPU."""
        quota_us = max(1000, int(self.share * CPU_PERIOD_S * 1_000_000))
        period_us = int(CPU_PERIOD_S * 1_000_000)
        if self.choice.cpu == "cgroup1":
            _write(self._cpu_dir / "cpu.cfs_quota_us", str(quota_us))
        elif self.choice.cpu == "cgroup2":
            _write(self._cpu_dir / "cpu.max", f"{quota_us} {period_us}")
        self._throttling.set()

    def _supervise(self) -> None:
        pid = self._pid
        next_rss = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            wake = now + _RSS_POLL_S
            try:
                if self.choice.memory == "rlimit" and now >= next_rss:
                    next_rss = now + _RSS_POLL_S
                    self.peak_rss_bytes = max(self.peak_rss_bytes, process_peak_rss_bytes(pid))
                    if self.peak_rss_bytes > self.limit_bytes:
                        self.oom = True
                        _signal_group(pid, signal.SIGKILL)
                        return
                if self._duty is not None and self._throttling.is_set():
                    wake = self._duty.step(now)
                if self.choice.memory == "rlimit":
                    wake = min(wake, next_rss)
            except (OSError, ValueError, IndexError):
                return  # the child is gone (or a zombie): nothing left to supervise
            delay = wake - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    def cgroup_oom_killed(self) -> bool:
        """True if the kernel's OOM killer fired in our memory cgroup."""
        if self._memory_dir is None:
            return False
        try:
            for line in (self._memory_dir / "memory.events").read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill" and int(value) > 0:
                    return True
        except OSError:
            pass
        return False

    def cgroup_peak_bytes(self) -> Optional[int]:
        """memory.peak of the tier's cgroup (Linux 5.19+), the same figure Lambda reports."""
        if self._memory_dir is None:
            return None
        try:
            return int(_read(self._memory_dir / "memory.peak"))
        except (OSError, ValueError):
            return None

    def kill_all(self) -> None:
        """SIGKILL the child's process group and anything else inside our cgroups.

        Call it before reaping the child: while the leader is an unreaped zombie its process
        group id cannot be reused, so the group kill cannot hit an unrelated process.
        """
        if self._pid is not None:
            _signal_group(self._pid, signal.SIGKILL)
        for directory in self._cgroups:
            if (directory / "cgroup.kill").exists():
                try:
                    _write(directory / "cgroup.kill", "1")
                    continue
                except OSError:
                    pass
            _kill_cgroup_members(directory)

    def stop_watchdog(self) -> None:
        """Stop signalling the child. Must happen before it is reaped: after that its pid and
        process group id may belong to an unrelated process."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)
        if self._duty is not None:
            self._duty.release()  # never leave a stopped process behind
            self._duty = None

    def close(self) -> None:
        """Stop the watchdog and remove our cgroups (waiting briefly for them to empty)."""
        self.stop_watchdog()
        for directory in reversed(self._cgroups):
            _remove_cgroup(directory)
        self._cgroups.clear()


def _cgroup_pids(directory: Path) -> list[int]:
    try:
        return [int(x) for x in (directory / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return []


def _kill_cgroup_members(directory: Path) -> None:
    """SIGKILL every process in the cgroup (those already gone, or not ours, are skipped)."""
    for pid in _cgroup_pids(directory):
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _remove_cgroup(directory: Path, wait_s: float = 2.0) -> None:
    """rmdir a cgroup; it fails with EBUSY until the killed processes have really exited."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            directory.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError as exc:
            if exc.errno != errno.EBUSY or time.monotonic() > deadline:
                return
            _kill_cgroup_members(directory)
            time.sleep(0.01)
