"""The symbolic checker: static (AST) checks with auto-fixes, sandboxed runtime checks, and the report.

    from genesys.checker import check
    report = check("seeds/gpt2")            # or a unit .py file, or a (partial) GAUTree
    report.valid, report.errors, report.to_json()
"""
from genesys.checker.config import ConfigError, load_config
from genesys.checker.report import CATEGORIES, CheckResult, Finding, Fix, Report

__all__ = ["check", "load_config", "ConfigError", "Report", "Finding", "CheckResult", "Fix", "CATEGORIES"]


def __getattr__(name):
    if name == "check":  # lazily: the API imports torch, which the CLI's usage errors should not wait for
        from genesys.checker.api import check
        return check
    raise AttributeError(name)
