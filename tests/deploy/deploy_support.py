"""Shared helpers of the deployment checks in tests/deploy (run with /usr/bin/python3).

Each check script collects every failure (not only the first), prints them and exits 1, so
one run shows everything that is wrong with the manifests.
"""

import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]

# The six long-running components: name -> (binary, gRPC port, second port name, second port).
COMPONENTS = {
    "licensing": ("licensing-service", 7101, "metrics", 7201),
    "inspection": ("inspection-service", 7102, "metrics", 7202),
    "credit": ("credit-service", 7103, "metrics", 7203),
    "disclosure": ("disclosure-service", 7104, "metrics", 7204),
    "exchange": ("exchange-service", 7105, "metrics", 7205),
    "gateway": ("regsuite-gateway", 7000, "http", 7080),
}
BINARIES = sorted([binary for binary, *_ in COMPONENTS.values()] + ["regctl"])


class Checker:
    """Collects failed expectations; finish() reports them and sets the exit code."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failures = []

    def check(self, condition, message):
        if condition:
            self.passed += 1
        else:
            self.failures.append(message)
        return bool(condition)

    def fail(self, message):
        self.failures.append(message)

    def finish(self):
        for failure in self.failures:
            print(f"FAIL {self.name}: {failure}")
        print(f"{self.name}: {self.passed} checks passed, {len(self.failures)} failed")
        sys.exit(1 if self.failures else 0)


def repo_files(*pathspecs):
    """Tracked files plus new ones not ignored by .gitignore (the tree as it would be committed)."""
    out = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "--cached", "--others", "--exclude-standard", "-z", "--",
         *pathspecs],
        check=True, capture_output=True).stdout
    return sorted({ROOT / p for p in out.decode().split("\0") if p and (ROOT / p).is_file()})


def load_yaml_documents(text):
    return [doc for doc in yaml.safe_load_all(text) if doc is not None]


# ---------------------------------------------------------------------------------------------
# Configuration reference (docs/config-reference.md, generated from the binaries themselves)

_SECTION = re.compile(r"^## `([^`]+)`")
_ROW = re.compile(r"^\| `([^`]+)` \| (\w+) \| (.*?) \| `([A-Z0-9_]+)`(?: or `([A-Z0-9_]+)`)? \|")


def config_reference():
    """binary -> {"keys": {key: secret?}, "env": {variable: key}} from docs/config-reference.md."""
    path = ROOT / "docs" / "config-reference.md"
    reference = {}
    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if m := _SECTION.match(line):
            current = reference.setdefault(m.group(1), {"keys": {}, "env": {}})
        elif current is not None and (m := _ROW.match(line)):
            key, secret = m.group(1), m.group(3) == "(secret)"
            current["keys"][key] = secret
            current["env"][m.group(4)] = key
            if m.group(5):
                current["env"][m.group(5)] = key
    return reference


def settings_errors(reference, binary, env=None, file_text=None):
    """What the binary would reject at start-up: mirrors Config::Parse (services/common/src/config.cc).

    env: {NAME: value} as the process would see it; file_text: the --config file."""
    entry = reference.get(binary)
    if entry is None:
        return [f"{binary} is not in docs/config-reference.md"]
    errors = []
    sections = {key.split(".")[0] for key in entry["keys"]}
    prefixes = tuple(f"REGSUITE_{s.upper()}_" for s in sections)
    for name in sorted(env or {}):
        if name not in entry["env"] and name.startswith(prefixes):
            errors.append(f"{binary}: unknown configuration variable {name}")
    section = ""
    for number, raw in enumerate((file_text or "").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            section = line.strip("[]").strip()
            continue
        if "=" not in line:
            errors.append(f"{binary}: config line {number}: expected `key = value`")
            continue
        key = f"{section}.{line.split('=', 1)[0].strip()}" if section else line.split("=", 1)[0].strip()
        if key not in entry["keys"]:
            errors.append(f"{binary}: config line {number}: unknown key {key}")
        elif entry["keys"][key]:
            errors.append(f"{binary}: config line {number}: {key} is a secret and may not be in a file")
    return errors
