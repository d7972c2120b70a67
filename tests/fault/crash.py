"""Crash test (issue 8): the scenario for many subjects while processes die.

    crash.py reference OUT.json   undisturbed run: writes the normalised end state
    crash.py crash REF.json       the same run while a killer thread kill -9s a random service
                                  or the gateway at random moments (restarting it with
                                  deploy/local/stack.sh up) and restarts PostgreSQL once; then
                                  polls until the end state equals REF.json (deadline), and
                                  prints the counts

The client retries transient failures (as any client of a restarting system must) and reads
the state back when a retried transition may already have been applied (scenario_lib).
Normalised state: per subject the state in each service (ids and timestamps left out) and the
platform stub's record (changes per entity type and operation); nothing lost, nothing twice.
"""
import collections
import json
import os
import random
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import scenario_lib as sl  # noqa: E402
from scenario import connect, platform_enabled  # noqa: E402

SUBJECTS = int(os.environ.get("CRASH_SUBJECTS", "24"))
COMPONENTS = ["licensing", "inspection", "credit", "disclosure", "exchange", "gateway"]
INSTANCE = os.environ["E2E_INSTANCE"]
ROOT = os.environ["E2E_ROOT"]
STACK_ENV = dict(line.split("=", 1) for line in os.environ["E2E_STACK_ENV"].split("\n") if line)


def stack(*args):
    env = dict(os.environ, **STACK_ENV)
    return subprocess.run([os.path.join(ROOT, "deploy/local/stack.sh"), *args], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def pgctl(*args):
    return subprocess.run([os.path.join(ROOT, "deploy/local/pgctl.sh"), *args],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def pid_of(component):
    try:
        with open(os.path.join(INSTANCE, "run", component + ".pid")) as f:
            return int(f.readline())
    except (OSError, ValueError):
        return None


class Killer(threading.Thread):
    """kill -9 of a random component every 0.5-2 s, restarted at once; PostgreSQL once."""

    def __init__(self, seed):
        super().__init__(daemon=True)
        self.rng = random.Random(seed)
        self.stop = threading.Event()
        self.kills = collections.Counter()
        self.pg_restarts = 0
        self.errors = []

    def run(self):
        # every component once (in a random order), then random ones; PostgreSQL once
        order = self.rng.sample(COMPONENTS, len(COMPONENTS))
        n = 0
        while not self.stop.wait(self.rng.uniform(0.5, 2.0)):
            n += 1
            if n == 4:
                self.restart_postgres()
                continue
            c = order.pop() if order else self.rng.choice(COMPONENTS)
            pid = pid_of(c)
            if pid is None:
                continue
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                continue
            self.kills[c] += 1
            self.restart()

    def restart(self):
        r = stack("up")
        if r.returncode != 0:
            self.errors.append(r.stdout[-2000:])

    def restart_postgres(self):
        pg = os.path.join(INSTANCE, "pg")
        for r in (pgctl("stop", pg), pgctl("start", pg, os.environ["E2E_PG_PORT"])):
            if r.returncode != 0:
                self.errors.append(r.stdout[-2000:])
        self.pg_restarts += 1


# ------------------------------------------------------------------------------------------
# Normalised end state


def subject_state(sc, s):
    c = sc.c
    st = {}
    st["enterprise"] = c("inspection", "GetEnterprise", {"uscc": s.uscc}).get("name")
    apps = c("licensing", "ListApplications", {"uscc": s.uscc, "pageSize": 50})
    # statuses only: the review route depends on whether credit answered at that moment
    st["applications"] = sorted(a.get("status", "") for a in apps.get("applications", []))
    st["certificate"] = sc.certificate_status(s)
    insp = c("inspection", "ListInspections", {"uscc": s.uscc, "pageSize": 50})
    st["inspections"] = sorted(i.get("status", "") for i in insp.get("inspections", []))
    st["hazards"] = sorted((h.get("level"), h.get("status"), h.get("creditEventSent", False))
                           for h in c("inspection", "ListHazards", {"uscc": s.uscc}).get("hazards", []))
    st["penalty"] = sc.penalty(s).get("status")
    profile = c("credit", "GetCreditProfile", {"uscc": s.uscc})
    st["tier"] = profile.get("tier")
    st["records"] = sorted(r.get("kind", "") for r in profile.get("records", []))
    st["listings"] = sorted((l.get("listType"), l.get("status")) for l in profile.get("listings", []))
    st["published"] = sorted((r.get("category"), r.get("status"))
                             for r in c("disclosure", "SearchRecords",
                                        {"uscc": s.uscc, "pageSize": 50}).get("records", []))
    st["disclosure"] = sorted(
        (key, c("disclosure", "GetRecord", {"indexNo": s.state[key]}).get("status"))
        for key in ("penaltyIndexNo", "listingIndexNo"))
    return st


def platform_state(sc, subjects):
    """Per subject: the stub's recorded changes by (entity type, operation); and duplicates."""
    changes = sc.stub.changes()
    seen = collections.Counter(json.dumps([ch.get("entityType"), ch.get("entityId"),
                                           ch.get("operation"), ch.get("payload")],
                                          sort_keys=True, ensure_ascii=False) for ch in changes)
    duplicates = sum(n - 1 for n in seen.values())
    per_subject = {}
    for s in subjects:
        about = [ch for ch in changes if s.uscc in json.dumps(ch, ensure_ascii=False)]
        per_subject[s.uscc] = sorted(collections.Counter(
            "%s/%s" % (ch.get("entityType"), ch.get("operation")) for ch in about).items())
    return per_subject, duplicates, len(changes)


def feed_size(gw):
    total, cursor = 0, ""
    while True:
        page = gw.call("exchange", "ListChanges", {"cursor": cursor, "limit": 500})
        got = page.get("changes", [])
        total += len(got)
        if not got or page.get("nextCursor", "") in ("", cursor):
            return total
        cursor = page["nextCursor"]


def end_state(sc, subjects, platform):
    state = {"subjects": {s.uscc: subject_state(sc, s) for s in subjects}}
    if platform:
        per_subject, duplicates, total = platform_state(sc, subjects)
        state["platform"] = per_subject
        state["platform_total"] = total
        state["platform_duplicates"] = duplicates
        state["feed_size"] = feed_size(sc.gw)
    return state


def diff(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += diff(a.get(k), b.get(k), "%s/%s" % (path, k))
        return out
    return [] if a == b else ["%s: reference %r, crash run %r" % (path, a, b)]


def main():
    mode, path = sys.argv[1], sys.argv[2]
    gw, stub, clock = connect()
    check = sl.Checker(quiet=True)
    platform = platform_enabled(gw)
    sc = sl.Scenario(gw, stub, clock, check, run_id=2, platform=platform)
    subjects = [sl.Subject(2, i, sc.region) for i in range(SUBJECTS)]
    killer = None
    if mode == "crash":
        gw.retry_for = 120
        sc.allow_outages = True
        check.timeout_scale = 3
        killer = Killer(seed=int(os.environ.get("CRASH_SEED", "8")))
        killer.start()
    started = time.monotonic()
    try:
        sc.run_all(subjects)
    except (sl.ScenarioError, sl.RpcFailed) as e:
        print("FAILED during the scenario: %s" % e)
        return 1
    finally:
        if killer:
            killer.stop.set()
            killer.join()
    print("%s run: %d subjects, %d checks, %d calls (%d retried) in %.0f s"
          % (mode, SUBJECTS, check.passed, gw.calls, gw.retries, time.monotonic() - started))
    if mode == "reference":
        state = sl.Checker().poll("reference: end state stable",
                                  lambda: stable_state(sc, subjects, platform), timeout=60)
        with open(path, "w") as f:
            json.dump(state, f, ensure_ascii=False, indent=1, sort_keys=True)
        return 0

    with open(path) as f:
        reference = json.load(f)
    if killer.errors:
        print("restart problems:\n" + "\n".join(killer.errors))
    last = {}

    def equal():
        nonlocal last
        last = json.loads(json.dumps(end_state(sc, subjects, platform), sort_keys=True))
        return last == reference

    deadline = time.monotonic() + 120
    while not equal() and time.monotonic() < deadline:
        time.sleep(1)
    problems = diff(reference, last)
    delivered = last.get("platform_total", 0)
    lost = max(0, reference.get("platform_total", 0) - delivered)
    duplicates = last.get("platform_duplicates", 0)
    print("kills: %d (%s), PostgreSQL restarts: %d"
          % (sum(killer.kills.values()), ", ".join("%s %d" % kv for kv in sorted(killer.kills.items())),
             killer.pg_restarts))
    print("告知承诺 applications sent to normal review because credit was unreachable: %d"
          % sc.credit_fallbacks)
    print("events delivered to the platform: %d (reference %d), feed entries %s, duplicates = %d, "
          "lost = %d" % (delivered, reference.get("platform_total", 0), last.get("feed_size", "-"),
                         duplicates, lost))
    if not platform:
        print("platform comparison SKIPPED (exchange push not available)")
    if problems:
        print("end state differs from the undisturbed run:\n  " + "\n  ".join(problems[:40]))
        return 1
    print("end state equals the undisturbed run's for %d subjects" % SUBJECTS)
    return 0


def stable_state(sc, subjects, platform):
    first = end_state(sc, subjects, platform)
    time.sleep(2)
    second = end_state(sc, subjects, platform)
    return second if first == second else None


if __name__ == "__main__":
    sys.exit(main())
