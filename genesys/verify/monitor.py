"""RunMonitor: a Lightning callback that stops runs which are diverging or too slow, and says why.

Stops when the training loss is NaN/inf, above max_loss or <= 0, when the pre-clipping gradient norm exceeds
max_grad_norm (or is not finite), or when the median step time over a window exceeds tolerance x the
expected step time. The expected time is given (e.g. a GPT reference measured at the same scale) or, when
None, calibrated on the run's own first steps, which catches runs that slow down (memory thrash, growing
state) but not ones slow from the start.
"""
from __future__ import annotations

import math
import statistics
import time
from typing import List, Optional

from lightning.pytorch.callbacks import Callback


class RunMonitor(Callback):
    def __init__(self, max_loss: float = 1e4, max_grad_norm: float = 1e4, expected_step_s: Optional[float] = None,
                 time_tolerance: float = 3.0, skip_steps: int = 3, calibration_steps: int = 5, window: int = 5):
        self.max_loss, self.max_grad_norm = max_loss, max_grad_norm
        self.expected_step_s, self.time_tolerance = expected_step_s, time_tolerance
        self.skip_steps, self.calibration_steps, self.window = skip_steps, calibration_steps, window
        self.stop_reason: Optional[str] = None
        self.stop_detail: Optional[str] = None
        self.step_times: List[float] = []
        self._t0 = None
        self.elapsed_before = 0.0     # training seconds of earlier (killed and resumed) attempts
        self._started = None

    @property
    def elapsed_s(self) -> float:
        """Wall time spent training, summed over resumed attempts."""
        now = time.perf_counter() - self._started if self._started is not None else 0.0
        return self.elapsed_before + now

    def state_dict(self):
        return {"expected_step_s": self.expected_step_s, "elapsed_s": self.elapsed_s}

    def load_state_dict(self, state):
        self.expected_step_s = self.expected_step_s or state.get("expected_step_s")
        self.elapsed_before = state.get("elapsed_s", 0.0)

    def on_train_start(self, trainer, pl_module):
        self._started = time.perf_counter()

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self._t0 = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        step = trainer.global_step
        loss = float(outputs["loss"]) if isinstance(outputs, dict) else float(outputs)
        if not math.isfinite(loss):
            return self._stop(trainer, "nan_loss", f"training loss {loss} at step {step}")
        if loss > self.max_loss:
            return self._stop(trainer, "loss_too_high", f"training loss {loss:.4g} > {self.max_loss:g} at step {step}")
        if loss <= 0:
            return self._stop(trainer, "loss_nonpositive", f"training loss {loss:.4g} <= 0 at step {step}")
        norm = getattr(pl_module, "grad_norm", None)
        if norm is not None:
            norm = float(norm)
            if not math.isfinite(norm) or norm > self.max_grad_norm:
                return self._stop(trainer, "grad_norm", f"gradient norm {norm:.4g} > {self.max_grad_norm:g} "
                                                        f"at step {step}")
        if self._t0 is not None:
            self._check_time(trainer, time.perf_counter() - self._t0)

    def _check_time(self, trainer, seconds: float) -> None:
        self.step_times.append(seconds)
        times = self.step_times[self.skip_steps:]
        if self.expected_step_s is None:
            if len(times) >= self.calibration_steps:
                self.expected_step_s = statistics.median(times[:self.calibration_steps])
            return
        if len(times) < self.window:
            return
        recent = statistics.median(times[-self.window:])
        if recent > self.time_tolerance * self.expected_step_s:
            self._stop(trainer, "too_slow", f"median step time {recent:.3g}s > {self.time_tolerance:g} x expected "
                                            f"{self.expected_step_s:.3g}s at step {trainer.global_step}")

    def _stop(self, trainer, reason: str, detail: str) -> None:
        if self.stop_reason is None:
            self.stop_reason, self.stop_detail = reason, detail
        trainer.should_stop = True
