#!/usr/bin/env python3
"""Checks deploy/systemd: systemd-analyze verify on every unit (and drop-in), and faultline's
own rules: exactly the capabilities each daemon needs, the hardening options that must be
there, and only flags the binaries really have (from their --help).

  check_systemd_units.py SOURCE_DIR BIN_DIR            check deploy/systemd
  check_systemd_units.py SOURCE_DIR BIN_DIR --broken   prove the check fails on broken copies

systemd-analyze verify only warns (exit 0) about unknown keys and bad values, so any output
from it is an error here. It also needs each ExecStart binary to exist: it verifies copies
whose /usr/local/bin/faultline-* paths point at the built binaries in BIN_DIR.
Exit status: 0 all good, 1 errors found, 2 bad usage.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

INSTALLED_BIN = "/usr/local/bin"
INJECTOR_CAPS = {"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_KILL", "CAP_SYS_ADMIN", "CAP_SYS_PTRACE",
                 "CAP_SYS_NICE"}
# unit -> (capabilities, its environment file in deploy/systemd)
UNITS = {
    "faultline-injector.service": (INJECTOR_CAPS, "injector.env"),
    "faultline-controller.service": (set(), "controller.env"),
}
REQUIRED = {"NoNewPrivileges": "yes", "ProtectSystem": "strict"}


def parse_unit(path):
    """[(line, key, value)] of a unit file; continuation lines joined, comments dropped."""
    entries, pending, start = [], "", 0
    with open(path, encoding="utf-8") as f:
        for number, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not pending and (not line.strip() or line.lstrip()[:1] in "#;" or line.startswith("[")):
                continue
            if not pending:
                start = number
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            text, pending = pending + line, ""
            key, _, value = text.partition("=")
            entries.append((start, key.strip(), value.strip()))
    return entries


def parse_env(path):
    values = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, _, value = line.partition("=")
            values[key.strip()] = (number, value.strip())
    return values


def help_flags(binary):
    out = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=10, check=True)
    return {m.group(1) for m in re.finditer(r"^\s+(?:-\w,)?(--[a-z][a-z0-9-]*)", out.stdout, re.M)}


def flags_in(words):
    return [w.split("=")[0] for w in words if w.startswith("--")]


def check_unit(unit_path, env_path, caps, bin_dir, docs_text, errors):
    name = os.path.basename(unit_path)
    entries = parse_unit(unit_path)
    last = {}
    for line, key, value in entries:
        last[key] = (line, value)

    def err(line, message):
        errors.append(f"{unit_path}:{line}: {message}")

    for key in ("CapabilityBoundingSet", "AmbientCapabilities"):
        if key not in last:
            err(1, f"{key}= missing (must be exactly: {' '.join(sorted(caps)) or 'empty'})")
            continue
        line, value = last[key]
        have = set(value.split())
        if have != caps:
            extra, missing = sorted(have - caps), sorted(caps - have)
            err(line, f"{key}: " + "; ".join(
                ([f"not needed: {' '.join(extra)}"] if extra else []) +
                ([f"missing: {' '.join(missing)}"] if missing else [])))
    for cap in sorted(caps):
        if not re.search(rf"^\| `{cap}`", docs_text, re.M):
            err(last["CapabilityBoundingSet"][0], f"{cap}: no row for it in docs/deploy.md's privilege table")
    for key, want in REQUIRED.items():
        if key not in last or last[key][1] != want:
            err(last.get(key, (1,))[0], f"{key}={want} is required")
    if not caps and last.get("PrivateTmp", (0, "no"))[1] != "yes":
        err(last.get("PrivateTmp", (1,))[0], "PrivateTmp=yes is required (the controller shares no files in /tmp)")
    if last.get("ProtectControlGroups", (0, "no"))[1] == "yes" and caps:
        err(last["ProtectControlGroups"][0], "ProtectControlGroups=yes breaks process_pause (freezer)")
    if "StateDirectory" not in last:
        err(1, "StateDirectory= missing (the ledger or store must persist)")
    state = "/var/lib/" + last.get("StateDirectory", (0, "?"))[1]

    env_line = last.get("EnvironmentFile", (1, ""))
    if os.path.basename(env_line[1]) != os.path.basename(env_path):
        err(env_line[0], f"EnvironmentFile should be /etc/faultline/{os.path.basename(env_path)}")
    env = parse_env(env_path)
    defined = set(env) | {v.split("=")[0] for _, k, v in entries if k == "Environment"}

    line, command = last.get("ExecStart", (1, ""))
    words = command.split()
    binary = words[0] if words else ""
    daemons = [os.path.splitext(u)[0] for u in UNITS]
    if os.path.dirname(binary) != INSTALLED_BIN or os.path.basename(binary) not in daemons:
        err(line, f"ExecStart: {binary} is not one of {', '.join(INSTALLED_BIN + '/' + d for d in daemons)}")
        return
    known = help_flags(os.path.join(bin_dir, os.path.basename(binary)))
    for flag in flags_in(words[1:]):
        if flag not in known:
            err(line, f"ExecStart: {flag} is not a flag of {os.path.basename(binary)} (see --help)")
    for var in re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", command):
        if var not in defined:
            err(line, f"ExecStart: ${var} is set neither by Environment= nor in {env_path}")
    for var, (env_number, value) in env.items():
        if var.endswith("_ARGS"):
            for flag in flags_in(value.split()):
                if flag not in known:
                    errors.append(f"{env_path}:{env_number}: {var}: {flag} is not a flag of "
                                  f"{os.path.basename(binary)} (see --help)")
    for flag in ("--store", "--audit-log", "--ledger"):
        if flag in words:
            path = words[words.index(flag) + 1]
            if not path.startswith(state + "/"):
                err(line, f"ExecStart: {flag} {path} is outside the StateDirectory {state}")


def verify(unit_dir, bin_dir, errors):
    """systemd-analyze verify on copies pointing at the built binaries; any output is an error."""
    with tempfile.TemporaryDirectory(prefix="faultline-units-") as tmp:
        units = []
        for entry in sorted(os.listdir(unit_dir)):
            src = os.path.join(unit_dir, entry)
            if entry.endswith(".service"):
                with open(src, encoding="utf-8") as f:
                    text = f.read().replace(INSTALLED_BIN + "/faultline-", os.path.join(bin_dir, "faultline-"))
                with open(os.path.join(tmp, entry), "w", encoding="utf-8") as f:
                    f.write(text)
                units.append(os.path.join(tmp, entry))
        # Drop-ins (*.conf) are verified applied to the unit they are written for.
        for entry in sorted(os.listdir(unit_dir)):
            if entry.endswith(".conf"):
                target = os.path.join(tmp, "faultline-injector.service.d")
                os.makedirs(target, exist_ok=True)
                shutil.copy(os.path.join(unit_dir, entry), target)
        r = subprocess.run(["/usr/bin/systemd-analyze", "verify", "--man=no", "--recursive-errors=no", *units],
                           capture_output=True, text=True, timeout=60)
        dropins = os.path.join(tmp, "faultline-injector.service.d")
        output = [line.replace(dropins, unit_dir).replace(tmp, unit_dir) for line in (r.stdout + r.stderr).splitlines() if line.strip()]
        if r.returncode != 0 or output:
            errors.append(f"systemd-analyze verify (exit {r.returncode}):\n  " + "\n  ".join(output or ["(no output)"]))


def check(unit_dir, bin_dir, docs_file):
    errors = []
    with open(docs_file, encoding="utf-8") as f:
        docs_text = f.read()
    for unit, (caps, env) in UNITS.items():
        path = os.path.join(unit_dir, unit)
        if not os.path.exists(path):
            errors.append(f"{path}: missing")
            continue
        check_unit(path, os.path.join(unit_dir, env), caps, bin_dir, docs_text, errors)
    verify(unit_dir, bin_dir, errors)
    return errors


# (file, text to replace exactly once, replacement, expected part of an error; {line} is the
# line of the replaced text)
BREAKS = [
    ("faultline-injector.service", "NoNewPrivileges=yes\n", "NoNewPrivilege=yes\n", "Unknown key 'NoNewPrivilege'"),
    ("faultline-injector.service", "NoNewPrivileges=yes\n", "", "NoNewPrivileges=yes is required"),
    ("faultline-injector.service", "Restart=always\n", "Restart=sometimes\n", "restart specifier"),
    ("faultline-injector.service", "CapabilityBoundingSet=CAP_NET_ADMIN ", "CapabilityBoundingSet=CAP_SYS_MODULE CAP_NET_ADMIN ",
     "not needed: CAP_SYS_MODULE"),
    ("faultline-injector.service", "AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW ", "AmbientCapabilities=CAP_NET_ADMIN ",
     "missing: CAP_NET_RAW"),
    ("faultline-controller.service", "CapabilityBoundingSet=\n", "CapabilityBoundingSet=CAP_NET_BIND_SERVICE\n",
     "not needed: CAP_NET_BIND_SERVICE"),
    ("faultline-injector.service", "    --log-json \\\n", "    --log-jsn \\\n", "--log-jsn is not a flag of faultline-injector"),
    ("injector.env", "FAULTLINE_INJECTOR_ARGS=--label", "FAULTLINE_INJECTOR_ARGS=--lable", "--lable is not a flag"),
    ("controller.env", "FAULTLINE_LISTEN=", "FAULTLINE_LISTENS=", "$FAULTLINE_LISTEN is set neither"),
    ("faultline-controller.service", "    --store /var/lib/faultline-controller/faultline.db \\\n",
     "    --store /var/tmp/faultline.db \\\n", "outside the StateDirectory"),
    ("faultline-injector.service", "ExecStart=/usr/local/bin/faultline-injector", "ExecStart=/usr/local/bin/faultline-injectr",
     "faultline-injectr"),
    ("io-fault.conf", "ProtectSystem=no\n", "ProtectSystem=nope\n", "io-fault.conf:{line}: Failed to parse protect system"),
]


def check_broken(unit_dir, bin_dir, docs_file):
    failures = 0
    with tempfile.TemporaryDirectory(prefix="faultline-units-broken-") as tmp:
        pristine = os.path.join(tmp, "pristine")
        shutil.copytree(unit_dir, pristine)
        clean = check(pristine, bin_dir, docs_file)
        if clean:
            print("the unmodified copy does not pass, so the cases below prove nothing:\n" + "\n".join(clean))
            return 1
        for i, (name, old, new, expected) in enumerate(BREAKS):
            case = os.path.join(tmp, f"case{i}")
            shutil.copytree(unit_dir, case)
            path = os.path.join(case, name)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            if text.count(old) != 1:
                print(f"case {i}: {old.strip()!r} must occur exactly once in {name}; update this test")
                failures += 1
                continue
            with open(path, "w", encoding="utf-8") as f:
                f.write(text.replace(old, new))
            expected = expected.replace("{line}", str(text[:text.index(old)].count("\n") + 1))
            try:
                errors = check(case, bin_dir, docs_file)
            except subprocess.CalledProcessError as e:
                errors = [str(e)]
            hit = [e for e in errors if expected in e]
            if not hit:
                print(f"case {i} ({name}: {old.strip()!r} -> {new.strip()!r}): expected an error containing "
                      f"{expected!r}; got:\n  " + ("\n  ".join(errors) or "(no errors)"))
                failures += 1
            else:
                print(f"case {i} rejected as expected: {hit[0].replace(case + '/', '')}")
    if failures:
        print(f"check_systemd_units: {failures} of {len(BREAKS)} broken copies were not rejected as expected")
        return 1
    print(f"check_systemd_units: all {len(BREAKS)} broken copies rejected")
    return 0


def main(argv):
    if len(argv) not in (3, 4) or (len(argv) == 4 and argv[3] != "--broken"):
        print(__doc__, file=sys.stderr)
        return 2
    source, bin_dir = argv[1], os.path.abspath(argv[2])
    unit_dir = os.path.join(source, "deploy", "systemd")
    docs_file = os.path.join(source, "docs", "deploy.md")
    if len(argv) == 4:
        return check_broken(unit_dir, bin_dir, docs_file)
    errors = check(unit_dir, bin_dir, docs_file)
    for e in errors:
        print(e)
    if errors:
        print(f"check_systemd_units: {len(errors)} error(s) in {unit_dir}")
        return 1
    print(f"check_systemd_units: {unit_dir} ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
