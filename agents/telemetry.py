"""The agents' side of telemetry (:mod:`groundup.telemetry`): opening one ``learn()`` call's
logs, the scalars each agent adds, and closing them, written once for every agent.

A learning loop calls :meth:`AgentLogging._start_telemetry` first, then
:meth:`AgentLogging._log_telemetry` whenever the step count reaches the step it returned,
and :meth:`AgentLogging._close_telemetry` in its ``finally``; ``Agent._record_episode``
hands every finished episode to the open log. An agent with more to show (an exploration
rate, a loss) extends :meth:`AgentLogging._telemetry_scalars`.
"""

from __future__ import annotations

from typing import Any

from groundup.telemetry import AgentTelemetry, MonitorFile, env_id_of, next_run_dir

__all__ = ["AgentLogging"]


class AgentLogging:
    """Mixed into :class:`~groundup.agents.base.Agent`: it reads ``tensorboard_log``,
    ``monitor_dir``, ``num_timesteps`` and ``env`` from the agent."""

    tensorboard_log: str | None
    monitor_dir: str | None
    num_timesteps: int
    env: Any
    _telemetry: AgentTelemetry | None
    _monitor_t_start: float | None

    def _start_telemetry(self, tb_log_name: str | None) -> float:
        """Open this ``learn()`` call's logs (none unless ``tensorboard_log`` or
        ``monitor_dir`` is set); returns the step count at which to call :meth:`_log_telemetry`
        first (infinity when there is nothing to write at intervals). A learning loop calls
        this first and :meth:`_close_telemetry` in its ``finally``."""
        self._telemetry = None
        if self.tensorboard_log is None and self.monitor_dir is None:
            return float("inf")
        run_dir = None
        if self.tensorboard_log is not None:
            run_dir = next_run_dir(self.tensorboard_log, type(self).__name__ if tb_log_name is None else tb_log_name)
        monitor = None
        if self.monitor_dir is not None:
            monitor = MonitorFile(self.monitor_dir, env_id_of(self.env), self._monitor_t_start)
            self._monitor_t_start = monitor.t_start  # a later learn() appends to the same file
        self._telemetry = AgentTelemetry(run_dir, monitor, self.num_timesteps)
        return self._telemetry.next_step

    def _telemetry_scalars(self) -> dict[str, float | None]:
        """The scalars besides the episode means and ``time/fps``, SB3's tags: here
        ``train/learning_rate`` where the agent has a constant one; agents with an
        exploration rate or a loss add theirs."""
        lr = getattr(self, "learning_rate", None)
        return {"train/learning_rate": lr if isinstance(lr, (int, float)) and not isinstance(lr, bool) else None}

    def _log_telemetry(self) -> float:
        """Write the scalars at the current step count; returns the next step to log at."""
        self._telemetry.log(self.num_timesteps, self._telemetry_scalars())
        return self._telemetry.next_step

    def _close_telemetry(self) -> None:
        """Write the last point and close the logs (also when learning raised)."""
        telemetry, self._telemetry = self._telemetry, None
        if telemetry is not None:
            telemetry.close(self.num_timesteps, self._telemetry_scalars())
