"""The periodic jobs of the app, each with its period length. Jobs are thin and safe to rerun."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from consultroom.timeutil import floor_minutes


@dataclass(frozen=True)
class JobSpec:
    name: str
    every_minutes: int
    func: Callable[[datetime], str]  # does the work for "now"; returns a one-line result
    description: str  # usually a lazy string, translated where it is shown
    title: str = ""  # the job's name for people (lazy); `name` is its id in job runs and logs

    def period(self, now: datetime) -> str:
        return floor_minutes(now, self.every_minutes).strftime("%Y-%m-%dT%H:%MZ")


JOBS: dict[str, JobSpec] = {}


def job(name: str, *, every_minutes: int, description: str, title: str = ""):
    def register(func: Callable[[datetime], str]) -> Callable[[datetime], str]:
        JOBS[name] = JobSpec(name=name, every_minutes=every_minutes, func=func, description=description, title=title)
        return func

    return register
