"""The command line's console.

Logging, warnings and progress on stderr, the checks of output paths, and
the options and input checks that several commands share.

Everything :func:`run_settings` sets (the ``simpeg_zo`` and ``SimPEG``
loggers' levels and handlers, warning filters and display) is restored when
its block ends, so :func:`simpeg_zo.cli.main` can run inside a Python session.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import warnings

__all__ = [
    "EXIT_USAGE",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_TERMINATED",
    "UserError",
    "check_modes",
    "check_network",
    "learned_errors",
    "add_engine_options",
    "check_output_dir",
    "check_output_file",
    "check_solver",
    "load_spec_arg",
    "run_settings",
    "sigterm_interrupts",
    "split_list",
    "use_agg",
]

log = logging.getLogger("simpeg_zo.cli")


class UserError(Exception):
    """A mistake in the user's input; reported without a traceback."""


class _Formatter(logging.Formatter):
    def format(self, record):
        text = super().format(record)
        if record.levelno >= logging.WARNING:
            return f"simpeg-zo: {record.levelname.lower()}: {text}"
        return f"simpeg-zo: {text}"


class _ProgressLine(logging.Handler):
    """The library's latest INFO message as a status line on stderr.

    Each accepted iterate (method, iteration, chi2, elapsed time) is
    rewritten in place on a terminal, one line per message otherwise.
    ``show`` replaces the line (``compare`` puts it on its progress bar).
    """

    def __init__(self):
        super().__init__(logging.INFO)
        self.addFilter(lambda record: record.levelno < logging.WARNING)
        self.show = None
        self._width = 0

    def emit(self, record):
        text = record.getMessage()
        if self.show is not None:
            self.show(text)
            return
        stream = sys.stderr
        if stream.isatty():
            stream.write("\r" + text.ljust(self._width))
            self._width = len(text)
        else:
            stream.write(text + "\n")
        stream.flush()

    def end(self):
        """Finish a status line left open on a terminal."""
        if self._width:
            sys.stderr.write("\n")
            sys.stderr.flush()
            self._width = 0


class _LogHandler(logging.StreamHandler):
    def __init__(self, level, progress):
        super().__init__(sys.stderr)
        self.setLevel(level)
        self.setFormatter(_Formatter())
        self.progress = progress

    def emit(self, record):
        if self.progress is not None:
            self.progress.end()
        super().emit(record)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings of the run as log records (one line, no source excerpt)."""
    own = f"{os.sep}simpeg_zo{os.sep}" in str(filename)
    where = "" if own else f" ({category.__name__} at {os.path.basename(str(filename))}:{lineno})"
    log.warning("%s%s", message, where)


@contextlib.contextmanager
def run_settings(verbosity: int):
    """Logging and warnings for one command, all restored on exit.

    ``verbosity``: -1 errors only, 0 warnings and a progress line, 1 INFO
    (every iteration), 2 DEBUG and SimPEG's own notes. Yields the progress
    line handler (None unless ``verbosity`` is 0).
    """
    level = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    progress = _ProgressLine() if verbosity == 0 else None
    package = logging.getLogger("simpeg_zo")
    simpeg_logger = logging.getLogger("SimPEG")
    saved = [(lg, lg.level, lg.propagate, list(lg.handlers)) for lg in (package, simpeg_logger)]
    handler = _LogHandler(level, progress)
    package.addHandler(handler)
    if progress is not None:
        package.addHandler(progress)
    package.setLevel(min(level, logging.INFO) if progress is not None else level)
    package.propagate = False
    # SimPEG logs notes (targets, reference models) at INFO to its own stderr handler
    simpeg_logger.setLevel(logging.INFO if verbosity >= 2 else max(level, logging.WARNING))
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            if verbosity < 2:
                # upstream deprecations and SimPEG's solver advice: not the user's to act on
                warnings.filterwarnings("ignore", category=FutureWarning)
                warnings.filterwarnings("ignore", category=DeprecationWarning)
                warnings.filterwarnings("ignore", category=PendingDeprecationWarning)
                warnings.filterwarnings("ignore", category=UserWarning, module=r"simpeg(\.|$)")
                warnings.filterwarnings("ignore", message=".*SolverLU.*might lead to high computation")
                warnings.filterwarnings("ignore", message="splu converted its input to CSC")
            yield progress
    finally:
        if progress is not None:
            progress.end()
        for lg, lvl, propagate, handlers in saved:
            lg.setLevel(lvl)
            lg.propagate = propagate
            lg.handlers[:] = handlers


def use_agg():
    """Select matplotlib's Agg backend: the command only writes figure files.

    Unless pyplot is already loaded (main() called from a session that has
    chosen its backend).
    """
    if "matplotlib.pyplot" in sys.modules:
        return
    try:
        import matplotlib
    except ImportError:  # pragma: no cover
        return
    matplotlib.use("Agg")


def check_output_file(flag, path):
    """Check a file the command will write.

    Its folder exists and is writable, and it is not a folder.
    """
    if path is None:
        return
    full = os.path.abspath(path)
    if os.path.isdir(full):
        raise UserError(f"{flag} {path}: is a folder; give a file name")
    parent = os.path.dirname(full)
    if not os.path.isdir(parent):
        raise UserError(f"{flag} {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK) or (os.path.exists(full) and not os.access(full, os.W_OK)):
        raise UserError(f"{flag} {path}: not writable")


def check_output_dir(flag, path):
    """Check a folder the command will write into (created if missing).

    It is a folder, or its parent folder exists; writable either way.
    """
    if path is None:
        return
    full = os.path.abspath(path)
    if os.path.exists(full):
        if not os.path.isdir(full):
            raise UserError(f"{flag} {path}: exists and is not a folder")
        target = full
    else:
        target = os.path.dirname(full)
        if not os.path.isdir(target):
            raise UserError(f"{flag} {path}: parent folder {target} does not exist")
    if not os.access(target, os.W_OK | os.X_OK):
        raise UserError(f"{flag} {path}: folder {target} is not writable")


def split_list(text):
    """Items of a comma-separated option."""
    return [t.strip() for t in text.split(",") if t.strip()]


def load_spec_arg(spec_arg, *, modes=None, station_step=1, frequency_step=1):
    """A spec file or preset, optionally one mode set and thinned; errors are UserErrors."""
    from ._compare import decimate_survey
    from ._spec import SpecError, load_spec

    try:
        spec = load_spec(spec_arg)
        if modes:
            spec = spec.replace(modes=tuple(modes))
        if station_step > 1 or frequency_step > 1:
            spec = decimate_survey(spec, station_step=station_step, frequency_step=frequency_step)
    except SpecError as err:
        raise UserError(str(err)) from None
    return spec


def add_engine_options(p, *, workers=True):
    """--solver and, with ``workers``, the Dask options of ZO's forward solves."""
    p.add_argument(
        "--solver",
        choices=("auto", "pardiso", "superlu"),
        default="auto",
        help="direct solver of every simulation: MKL PARDISO (the 'pardiso' extra) or "
        "SuperLU; auto takes PARDISO when MKL loads (default)",
    )
    if workers:
        p.add_argument(
            "--workers",
            type=int,
            default=1,
            help="ZO: Dask worker processes for the forward solves (default 1: this process)",
        )
        p.add_argument(
            "--scheduler", default=None, help="ZO: address of an existing Dask scheduler for the forward solves"
        )


def check_solver(name):
    """Resolve --solver before any work.

    A solver that cannot load is a user error naming the fallback.
    """
    from ._solvers import SolverUnavailableError, get_solver

    try:
        get_solver(name)
    except SolverUnavailableError as err:
        raise UserError(f"--solver {name}: {err}") from None
    return name


@contextlib.contextmanager
def sigterm_interrupts():
    """SIGTERM acts as Ctrl-C inside the block; the previous handler is restored after.

    A job stopped by ``kill`` or by a batch scheduler (which sends SIGTERM
    before SIGKILL) then writes what it has found, as after Ctrl-C.  Yields
    a list that holds the signal number once one has arrived.  Outside the
    main thread, where handlers cannot be set, nothing changes.
    """
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def _handler(signum, frame):
        received.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _handler)
    try:
        yield received
    finally:
        signal.signal(signal.SIGTERM, previous)


#: Exit codes of the command line.
EXIT_USAGE = 2
EXIT_FAILED = 3  # a method failed during its iterations; its best model so far was written
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143  # 128 + SIGTERM


def check_modes(modes):
    """``--modes`` upper-cased and checked (TE, TM, TIP; the tipper with TE or TM)."""
    modes = [m.upper() for m in modes]
    bad = [m for m in modes if m not in ("TE", "TM", "TIP")]
    if bad or not modes:
        raise UserError(f"--modes: {','.join(modes) or '(none)'} is not a list of TE, TM and TIP (e.g. TE,TM,TIP)")
    if len(set(modes)) < len(modes):
        raise UserError(f"--modes: {','.join(modes)} names a mode twice")
    if set(modes) == {"TIP"}:
        raise UserError("--modes: the tipper (TIP) needs TE or TM beside it, e.g. TE,TM,TIP")
    return modes


def learned_errors():
    """Exceptions of the learned methods that are the user's to fix.

    No torch, no such network file, data the network cannot take.
    """
    from .learned import SurveyMismatchError

    return (ImportError, FileNotFoundError, SurveyMismatchError)


def check_network(network, methods):
    """Refuse ``--network`` when no learned method is asked for."""
    from ._invert import LEARNED_METHODS

    if network is not None and not any(m in LEARNED_METHODS for m in methods):
        raise UserError(f"--network applies only to the learned methods ({', '.join(LEARNED_METHODS)})")
