"""Synthetic proxy suite (MAD-style tasks + MQAR): the cheapest rung of the ladder."""
from genesys.evaluate.proxy.suite import run_proxy_suite
from genesys.evaluate.proxy.tasks import DIFFICULTY, TASKS, make_task
from genesys.evaluate.proxy.train import TrainSettings, train_on_task

__all__ = ["run_proxy_suite", "TASKS", "DIFFICULTY", "make_task", "TrainSettings", "train_on_task"]
