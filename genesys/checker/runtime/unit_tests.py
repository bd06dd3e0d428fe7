"""The units' own @gau_test functions, run against the composed design (inside the sandbox)."""
from __future__ import annotations

from typing import List

from genesys.checker.report import CheckResult, Finding
from genesys.checker.runtime.common import classify, timed
from genesys.gau import GAUTree, run_gau_tests


def check_unit_tests(ctx) -> List[CheckResult]:
    result = CheckResult("unit_tests")
    with timed(result):
        try:
            outcomes = run_gau_tests(GAUTree.from_dict(ctx.tree))
        except Exception as exc:
            result.errors.append(classify(exc, "unit_tests"))
            return [result]
        ctx.metrics["unit_tests"] = len(outcomes)
        for name, error in outcomes.items():
            if error is None:
                continue
            last = error.strip().splitlines()[-1] if error.strip() else "failed"
            category = "memory" if "MemoryError" in last or "can't allocate memory" in last else "forward"
            if "sandbox:" in last:
                category = "security"
            finding = Finding(category, "unit_tests", f"@gau_test {name} failed: {last[:300]}",
                              "Fix the unit (or the test, if the test is wrong).")
            # like the original's unittest_pass_required (default off): the checks above judge the design itself
            required = ctx.cfg.get("unit_tests_required", False) or category == "security"
            (result.errors if required else result.warnings).append(finding)
    return [result]
