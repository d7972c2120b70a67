"""The scenario test of issue 8 on a whole suite (see scenario_test.sh and scenario_lib.py)."""
import os
import sys

import grpc

import scenario_lib as sl


def connect():
    """The demo client that stack.sh up created, the platform stub and the clock offset file."""
    with open(os.path.join(os.environ["E2E_INSTANCE"], "demo-client.txt")) as f:
        app_key, secret = f.read().split()[:2]
    gw = sl.Gateway(os.environ["E2E_GATEWAY"], app_key, secret)
    stub = sl.PlatformStub(os.environ["E2E_STUB_URL"]) if os.environ.get("E2E_STUB_URL") else None
    return gw, stub, sl.TimeMachine(os.environ["E2E_OFFSET_FILE"])


def platform_enabled(gw):
    """Platform assertions run once the exchange service pushes (its feed is implemented)."""
    if os.environ.get("E2E_PLATFORM") != "1":
        return False
    try:
        gw.call("exchange", "ListChanges", {"limit": 1})
    except sl.RpcFailed as e:
        if e.code == grpc.StatusCode.UNIMPLEMENTED:
            return False
        raise
    return True


def main():
    gw, stub, clock = connect()
    check = sl.Checker()
    platform = platform_enabled(gw)
    scenario = sl.Scenario(gw, stub, clock, check, run_id=1, platform=platform)
    subjects = [sl.Subject(1, i, scenario.region) for i in range(2)]
    try:
        scenario.run_all(subjects, extended=True)
    except (sl.ScenarioError, sl.RpcFailed) as e:
        print("FAILED: %s" % e)
        return 1
    print("scenario passed: %d checks, %d calls through the gateway, platform assertions %s"
          % (check.passed, gw.calls, "on" if platform else "SKIPPED (exchange push not available)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
