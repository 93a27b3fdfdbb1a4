#!/usr/bin/python3
"""Checks `faultline schema` with an independent JSON Schema validator (python3-jsonschema,
Draft 2020-12): every shipped example and valid corpus file must pass, and every invalid
corpus file whose mistake is structural (unknown key, wrong type, bad enum, missing field)
must fail -- so editors using the schema agree with `faultline validate`.

Usage: check_json_schema.py FAULTLINE_BINARY SOURCE_DIR
"""
import glob
import json
import subprocess
import sys

import jsonschema
import yaml


class Yaml12Loader(yaml.SafeLoader):
    """YAML 1.2 booleans only: `on:` is a key, as in yaml-cpp and VS Code's YAML extension."""


Yaml12Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", __import__("re").compile(r"^(?:true|false)$"), list("tf"))

# Invalid files whose mistake the JSON Schema can see; the others are cross-references,
# timelines or unit values that only the loader checks.
STRUCTURAL = {
    "bad-rollback-ending", "count-mode-bad-count", "guardrail-without-condition",
    "param-typo", "step-without-shape", "many-problems-at-once",
}


def main():
    binary, src = sys.argv[1], sys.argv[2]
    schema = json.loads(subprocess.run([binary, "schema"], check=True, capture_output=True,
                                       text=True).stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    failures = []
    valid = sorted(glob.glob(f"{src}/experiments/*.yaml") +
                   glob.glob(f"{src}/experiments/ci/*.yaml") +
                   glob.glob(f"{src}/tests/corpus/valid/*.yaml"))
    for path in valid:
        doc = yaml.load(open(path), Loader=Yaml12Loader)
        if doc.get("kind") == "GameDay":  # not an experiment; the game-day loader checks it
            continue
        errors = list(validator.iter_errors(doc))
        if errors:
            failures.append(f"{path}: rejected by the JSON Schema: {errors[0].message} "
                            f"at {'/'.join(map(str, errors[0].absolute_path))}")
    invalid = sorted(glob.glob(f"{src}/tests/corpus/invalid/*.yaml"))
    checked = 0
    for path in invalid:
        name = path.rsplit("/", 1)[1][:-5]
        if name not in STRUCTURAL:
            continue
        checked += 1
        doc = yaml.load(open(path), Loader=Yaml12Loader)
        if validator.is_valid(doc):
            failures.append(f"{path}: accepted by the JSON Schema, but faultline rejects it")
    for f in failures:
        print(f)
    print(f"{len(valid)} valid and {checked} invalid files checked, {len(failures)} failures")
    return 1 if failures or not valid or checked != len(STRUCTURAL) else 0


if __name__ == "__main__":
    sys.exit(main())
