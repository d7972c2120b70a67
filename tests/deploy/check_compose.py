#!/usr/bin/python3
"""Checks deploy/compose.yaml without a Docker engine: the same components as Kubernetes, each
with a health check, the migrations before the services, credentials only from the env file
(deploy/.env, git-ignored; deploy/.env.example committed), settings the binaries accept."""

import re
import subprocess

import yaml

from deploy_support import COMPONENTS, ROOT, Checker, config_reference, settings_errors

COMPOSE = ROOT / "deploy" / "compose.yaml"
ENV_EXAMPLE = ROOT / "deploy" / ".env.example"
SECRET_NAME = re.compile(r"PASSWORD|SECRET|MASTER_KEY|_KEY$")
INTERPOLATION = re.compile(r"\$\{([A-Z0-9_]+)(?::?[-?][^}]*)?\}")


def env_example_names():
    names = set()
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            names.add(line.split("=", 1)[0])
    return names


def main():
    c = Checker("check_compose")
    text = COMPOSE.read_text(encoding="utf-8")
    compose = yaml.safe_load(text)
    services = compose["services"]
    reference = config_reference()

    # credentials: interpolated from deploy/.env, never written in the file
    example = env_example_names()
    for variable in sorted(set(INTERPOLATION.findall(text))):
        c.check(variable in example, f"${{{variable}}} is used by compose.yaml but not in deploy/.env.example")
    ignored = subprocess.run(["git", "-C", str(ROOT), "check-ignore", "-q", "deploy/.env"]).returncode == 0
    c.check(ignored, "deploy/.env (the real env file) must be git-ignored")
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files", "--error-unmatch", "deploy/.env"],
                             capture_output=True).returncode == 0
    c.check(not tracked, "deploy/.env is committed")

    c.check({"postgres", "redis", "migrate"} <= set(services), "postgres, redis and migrate expected")
    c.check(set(COMPONENTS) <= set(services), f"compose services {sorted(services)} miss a component")
    migrate = services.get("migrate", {})
    c.check("regctl migrate" in " ".join(migrate.get("command", [])), "migrate must run regctl migrate")
    c.check(migrate.get("depends_on", {}).get("postgres", {}).get("condition") == "service_healthy",
            "migrate must wait for a healthy PostgreSQL")

    images = set()
    for name, service in services.items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key) and not key.endswith("_FILE"):
                c.check(isinstance(value, str) and INTERPOLATION.fullmatch(value),
                        f"{name}: {key} must come from the env file (${{VARIABLE}}), not be written here")
        if name in ("postgres", "redis"):
            c.check(service.get("healthcheck", {}).get("test"), f"{name}: no health check")
            continue
        images.add(service.get("image"))
        c.check(service.get("read_only") is True and "ALL" in service.get("cap_drop", []),
                f"{name}: read_only and cap_drop ALL expected")
        c.check(name == "gateway" or not service.get("ports"), f"{name} publishes ports; only the gateway may")

    for name, (binary, grpc_port, _, _) in COMPONENTS.items():
        service = services.get(name)
        if service is None:
            continue
        c.check(service.get("command", [None])[0] == binary, f"{name}: command must be {binary}")
        env = {k: str(v) for k, v in (service.get("environment") or {}).items()}
        for error in settings_errors(reference, binary, env=env):
            c.fail(f"{name}: {error}")
        c.check(env.get("REGSUITE_SERVER_GRPC_LISTEN") == f"0.0.0.0:{grpc_port}",
                f"{name}: REGSUITE_SERVER_GRPC_LISTEN must be 0.0.0.0:{grpc_port}")
        test = " ".join(service.get("healthcheck", {}).get("test", []))
        c.check(f"regctl health 127.0.0.1:{grpc_port}" in test, f"{name}: health check must be grpc.health.v1")
        depends = service.get("depends_on", {})
        c.check(depends.get("migrate", {}).get("condition") == "service_completed_successfully",
                f"{name}: must start after migrate completed successfully")
        if name == "gateway":
            for other in COMPONENTS:
                if other != "gateway":
                    c.check(env.get(f"REGSUITE_BACKENDS_{other.upper()}") == f"{other}:{COMPONENTS[other][1]}",
                            f"gateway: REGSUITE_BACKENDS_{other.upper()} must be {other}:{COMPONENTS[other][1]}")
        else:
            c.check(env.get("REGSUITE_GATEWAY_TARGET") == "gateway:7000", f"{name}: gateway.target")
            c.check(depends.get("bootstrap", {}).get("condition") == "service_completed_successfully",
                    f"{name}: must start after its gateway identity exists (bootstrap)")
    for name in ("migrate", "bootstrap"):
        env = {k: str(v) for k, v in (services.get(name, {}).get("environment") or {}).items()}
        for error in settings_errors(reference, "regctl", env=env):
            c.fail(f"{name}: {error}")
    c.check(len(images) == 1, f"one image for every regsuite container, got {sorted(map(str, images))}")
    c.finish()


if __name__ == "__main__":
    main()
