"""Peak resident memory of a run, sampled from the operating system."""

from __future__ import annotations

import threading

__all__ = ["PeakMemory"]


def _resident_bytes(process) -> int:
    """Resident memory of a process and all its children (Dask workers)."""
    import psutil

    total = 0
    try:
        total += process.memory_info().rss
        for child in process.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                pass
    except psutil.Error:
        pass
    return total


class PeakMemory:
    """Context manager sampling the resident memory of this process and its children.

    Child processes (local Dask workers included) are sampled too, in a
    background thread.

    Parameters
    ----------
    interval : float
        Seconds between samples.

    Attributes
    ----------
    baseline_mb : float
        Resident memory when the context was entered (MiB).
    peak_mb : float
        Largest resident memory seen inside the context (MiB).

    Examples
    --------
    >>> with PeakMemory() as mem:
    ...     block = bytearray(50 * 2**20)
    >>> mem.peak_mb >= mem.baseline_mb
    True
    """

    def __init__(self, interval: float = 0.05):
        self.interval = float(interval)
        self.baseline_mb = float("nan")
        self.peak_mb = float("nan")
        self._stop = threading.Event()
        self._thread = None

    def _sample(self):
        import psutil

        process = psutil.Process()
        peak = _resident_bytes(process)
        while not self._stop.wait(self.interval):
            peak = max(peak, _resident_bytes(process))
        peak = max(peak, _resident_bytes(process))
        self.peak_mb = peak / 2**20

    def __enter__(self):
        import psutil

        self.baseline_mb = _resident_bytes(psutil.Process()) / 2**20
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample, name="simpeg-zo-memory", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        return False
