#!/usr/bin/python3
"""ctest: the GitHub Actions and GitLab CI examples in docs/ci.md are valid YAML and run exactly
the commands this test suite runs (CiSuite.*), with report paths that scripts/ci-suite.sh
writes. GitHub's and GitLab's runners are not reachable from here; this keeps the examples from
drifting away from what is tested."""
import re
import sys

import yaml

src = sys.argv[1]
text = open(f"{src}/docs/ci.md").read()
blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
docs = [yaml.safe_load(b) for b in blocks]
github = next(d for d in docs if isinstance(d, dict) and "jobs" in d)
gitlab = next(d for d in docs if isinstance(d, dict) and "resilience" in d)

def fail(msg):
    print(f"check_ci_docs: {msg}", file=sys.stderr)
    sys.exit(1)

steps = github["jobs"]["chaos"]["steps"]
runs = [s["run"] for s in steps if "run" in s]
if github["jobs"]["chaos"]["container"]["image"] != "debian:12":
    fail("GitHub example must run on debian:12")
if "--privileged" not in github["jobs"]["chaos"]["container"]["options"]:
    fail("GitHub example must be privileged (faults need the kernel)")
script = gitlab["resilience"]["script"]
wanted = ["scripts/setup.sh", "scripts/build.sh faultline faultline-demo",
          "scripts/ci-suite.sh faultline-reports"]
for cmd in wanted:
    if not any(cmd in r for r in runs):
        fail(f"GitHub example does not run {cmd}")
    if not any(cmd in s for s in script):
        fail(f"GitLab example does not run {cmd}")
uploads = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact")]
if not uploads or uploads[0]["with"]["path"] != "faultline-reports/":
    fail("GitHub example does not upload faultline-reports/")
junit = [s for s in steps if "report_paths" in s.get("with", {})]
if not junit or junit[0]["with"]["report_paths"] != "faultline-reports/junit.xml":
    fail("GitHub example does not publish faultline-reports/junit.xml")
if gitlab["resilience"]["artifacts"]["reports"]["junit"] != "faultline-reports/junit.xml":
    fail("GitLab example does not publish faultline-reports/junit.xml")
suite = open(f"{src}/scripts/ci-suite.sh").read()
if '"$out/junit.xml"' not in suite or '"$out/report.html"' not in suite:
    fail("scripts/ci-suite.sh no longer writes junit.xml and report.html")
for name in ["scripts/setup.sh", "scripts/build.sh", "scripts/ci-suite.sh"]:
    open(f"{src}/{name}").close()
print("check_ci_docs: ok")
