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

Memory is capped with cgroup v2 `memory.max` when available, otherwise with RLIMIT_DATA (an
allocation beyond the tier fails with MemoryError) plus an RSS watchdog that kills the process
group if the resident size passes the tier anyway. The v1 memory controller is deliberately not
used: nesting under whatever v1 memory cgroup the harness was started in (a container's, a CI
runner's) is not ours to change, and the rlimit plus watchdog give the same observable result.

Only the handler's invocations are throttled: `TierSandbox.start_throttle` is called once the
child has finished init, because Lambda's published cold starts are flat across memory sizes.
"""

from __future__ import annotations

import errno
import os
import signal
import threading
import time
from dataclasses import dataclass, field
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
            "rlimit": "RLIMIT_DATA + RSS watchdog",
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


@lru_cache(maxsize=None)
def detect_backend(mode: str = "auto") -> BackendChoice:
    """Pick the best enforcement this machine allows ("auto"), or insist on one.

    mode "cgroup" fails with BackendUnavailable when no cgroup CPU quota can be set;
    "portable" always uses the duty cycle and RLIMIT_DATA (useful to compare backends).
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


def process_rss_bytes(pid: int) -> int:
    """Resident set size of `pid` now, from /proc/PID/statm."""
    resident_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


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
                 period: float = CPU_PERIOD_S) -> None:
        self.pgid, self.read_cpu, self.period = pgid, read_cpu, period
        self.quota = share * period
        self.budget = self.quota
        self.period_end: Optional[float] = None
        self.last_cpu = 0.0
        self.running = True

    def step(self, now: float) -> float:
        """Account, stop or continue the child; return when to be called next."""
        if self.period_end is None:
            self.period_end, self.last_cpu = now + self.period, self.read_cpu()
        if now >= self.period_end:
            elapsed_periods = int((now - self.period_end) // self.period) + 1
            self.period_end += elapsed_periods * self.period
            self.budget = min(self.budget + elapsed_periods * self.quota, self.quota)
        cpu = self.read_cpu()
        self.budget -= cpu - self.last_cpu
        self.last_cpu = cpu
        if self.running and self.budget <= 0:
            _signal_group(self.pgid, signal.SIGSTOP)
            self.running = False
        elif not self.running and self.budget > 0:
            _signal_group(self.pgid, signal.SIGCONT)
            self.running = True
        if self.running:
            # At most one core's worth of the remaining budget: a single thread cannot spend
            # it faster; a multi-threaded overshoot becomes debt repaid next period.
            return min(self.period_end, now + max(self.budget, _MIN_SLICE_S))
        return self.period_end

    def release(self) -> None:
        if not self.running:
            _signal_group(self.pgid, signal.SIGCONT)
            self.running = True
