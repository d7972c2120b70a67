#!/usr/bin/python3
"""Writes deploy/k8s/base/<component>.yaml (Deployment, Service, HorizontalPodAutoscaler,
PodDisruptionBudget) for the gateway and the five services from one definition, so that a
probe, a security setting or a resource change is made once. kustomize v2.0.3 (Debian 12's
kubectl) cannot patch several objects by label, hence a generator rather than patches.

  deploy/k8s/gen-components.py           rewrite the six files
  deploy/k8s/gen-components.py --check   exit 1 when a file differs from what it would write
                                         (run by tests/deploy/check_manifests.py)
"""

import difflib
import sys
from pathlib import Path

import yaml

BASE = Path(__file__).resolve().parent / "base"

# name: (binary, gRPC port, second port name, second port)
COMPONENTS = {
    "licensing": ("licensing-service", 7101, "metrics", 7201),
    "inspection": ("inspection-service", 7102, "metrics", 7202),
    "credit": ("credit-service", 7103, "metrics", 7203),
    "disclosure": ("disclosure-service", 7104, "metrics", 7204),
    "exchange": ("exchange-service", 7105, "metrics", 7205),
    "gateway": ("regsuite-gateway", 7000, "http", 7080),
}
SECRETS_DIR = "/run/secrets/regsuite"
SECRET_MODE = 0o440  # root:fsGroup 10001, readable by the group only


class Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data):
        return True


def secret_file(env, mounts, volumes, variable, volume, secret, key, items=False):
    """Mounts Secret `secret` at SECRETS_DIR/volume and points REGSUITE_*_FILE at its key."""
    env.append({"name": variable, "value": f"{SECRETS_DIR}/{volume}/{key}"})
    mounts.append({"name": volume, "mountPath": f"{SECRETS_DIR}/{volume}", "readOnly": True})
    source = {"secretName": secret, "defaultMode": SECRET_MODE}
    if items:
        source["items"] = [{"key": key, "path": key}]
    volumes.append({"name": volume, "secret": source})


VERIFICATION_KEYS_DIR = "/etc/regsuite/licensing-keys"


def secrets_of(name):
    env, mounts, volumes = [], [], []
    secret_file(env, mounts, volumes, "REGSUITE_POSTGRES_PASSWORD_FILE", "datastores", "regsuite-datastores",
                "postgres-password")
    env.append({"name": "REGSUITE_REDIS_PASSWORD_FILE", "value": f"{SECRETS_DIR}/datastores/redis-password"})
    if name == "gateway":
        secret_file(env, mounts, volumes, "REGSUITE_AUTH_MASTER_KEY_FILE", "gateway", "regsuite-gateway-master-key",
                    "master-key")
    else:
        secret_file(env, mounts, volumes, "REGSUITE_GATEWAY_SECRET_FILE", "identity", "regsuite-service-identities",
                    f"svc-{name}.secret", items=True)
    if name == "exchange":
        secret_file(env, mounts, volumes, "REGSUITE_PUSH_SECRET_FILE", "platform", "regsuite-exchange-platform",
                    "push-secret")
    if name == "licensing":
        secret_file(env, mounts, volumes, "REGSUITE_LICENSING_SIGNING_KEY_FILE", "signing",
                    "regsuite-licensing-signing-key", "signing-key.pem")
        # Public keys of earlier signing keys (docs/operations.md, key rotation): not secrets;
        # the ConfigMap is created at the first rotation, an empty folder until then.
        env.append({"name": "REGSUITE_LICENSING_VERIFICATION_PUBLIC_KEYS_DIR", "value": VERIFICATION_KEYS_DIR})
        mounts.append({"name": "verification-keys", "mountPath": VERIFICATION_KEYS_DIR, "readOnly": True})
        volumes.append({"name": "verification-keys",
                        "configMap": {"name": "regsuite-licensing-verification-keys", "optional": True}})
    return env, mounts, volumes


def container(name):
    binary, grpc, other_name, other_port = COMPONENTS[name]
    gateway = name == "gateway"
    env, secret_mounts, _ = secrets_of(name)
    grpc_probe = {"grpc": {"port": grpc}, "periodSeconds": 5, "timeoutSeconds": 3}
    return {
        "name": name,
        "image": "regsuite",
        "imagePullPolicy": "IfNotPresent",
        "command": [binary],
        "args": ["--config", f"/etc/regsuite/config/{name}.conf"],
        "envFrom": [{"configMapRef": {"name": "regsuite-env"}}],
        "env": env,
        "ports": [{"name": "grpc", "containerPort": grpc, "protocol": "TCP"},
                  {"name": other_name, "containerPort": other_port, "protocol": "TCP"}],
        "startupProbe": dict(grpc_probe, failureThreshold=60),
        "readinessProbe": dict(grpc_probe, failureThreshold=2),
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": other_name}, "periodSeconds": 10,
                          "timeoutSeconds": 3, "failureThreshold": 3},
        # the Service endpoints drop the pod before SIGTERM starts the drain
        "lifecycle": {"preStop": {"exec": {"command": ["sleep", "5"]}}},
        "resources": {"requests": {"cpu": "200m" if gateway else "100m", "memory": "256Mi" if gateway else "128Mi"},
                      "limits": {"cpu": "2" if gateway else "1", "memory": "1Gi" if gateway else "512Mi"}},
        "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]}},
        "volumeMounts": [{"name": "config", "mountPath": "/etc/regsuite/config", "readOnly": True}, *secret_mounts,
                         {"name": "tmp", "mountPath": "/tmp"}],
    }


def objects(name):
    _, grpc, other_name, other_port = COMPONENTS[name]
    gateway, single = name == "gateway", name == "exchange"
    selector = {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "regsuite"}
    labels = dict(selector, **{"app.kubernetes.io/component": "gateway" if gateway else "service"})
    _, _, secret_volumes = secrets_of(name)
    volumes = [{"name": "config", "configMap": {"name": "regsuite-config",
                                                "items": [{"key": f"{name}.conf", "path": f"{name}.conf"}]}},
               *secret_volumes,
               {"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}}]
    pod = {
        "enableServiceLinks": False,
        "automountServiceAccountToken": False,
        "terminationGracePeriodSeconds": 30,
        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001, "fsGroup": 10001,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "kubernetes.io/hostname",
                                       "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": {"matchLabels": selector}}],
        "containers": [container(name)],
        "volumes": volumes,
    }
    meta = {"name": name, "labels": labels}
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": {
        "replicas": 1 if single else 2,
        "revisionHistoryLimit": 5,
        "selector": {"matchLabels": selector},
        "strategy": {"type": "Recreate"} if single else
                    {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
        "template": {"metadata": {"labels": labels, "annotations": {
            "prometheus.io/scrape": "true", "prometheus.io/port": str(other_port), "prometheus.io/path": "/metrics"}},
            "spec": pod}}}
    service = {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": {
        "type": "ClusterIP", "selector": selector,
        "ports": [{"name": "grpc", "port": grpc, "targetPort": "grpc", "protocol": "TCP"},
                  {"name": other_name, "port": other_port, "targetPort": other_name, "protocol": "TCP"}]}}
    hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": meta, "spec": {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
        "minReplicas": 1 if single else 2,
        "maxReplicas": 1 if single else 10 if gateway else 6,
        "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                                                      "target": {"type": "Utilization", "averageUtilization": 70}}}]}}
    pdb = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": meta,
           "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector}}}
    return [deployment, service, hpa, pdb]


def render(name):
    binary = COMPONENTS[name][0]
    header = [f"# {binary}: Deployment, Service, HorizontalPodAutoscaler, PodDisruptionBudget.",
              "# Generated by deploy/k8s/gen-components.py: edit the generator, not this file."]
    if name == "gateway":
        header += ["# The only component reachable from outside the namespace (network-policies.yaml); the",
                   "# Ingress (ingress.yaml) publishes gRPC and HTTP/JSON with TLS."]
    if name == "exchange":
        header += ["# One replica, replaced with Recreate, and an HPA pinned at 1: the push to the provincial",
                   "# platform must run in one process (services/exchange/README.md). Raise maxReplicas only",
                   "# with push.url empty."]
    header += ["# Probes: startup and readiness use grpc.health.v1 (SERVING only while PostgreSQL and Redis",
               "# answer); liveness uses /healthz, which does not depend on them, so that an outage of a",
               "# data store takes pods out of rotation without restarting them."]
    documents = [yaml.dump(o, Dumper=Dumper, sort_keys=False, width=100) for o in objects(name)]
    return "\n".join(header) + "\n" + "---\n".join(documents)


def main():
    check = sys.argv[1:] == ["--check"]
    stale = []
    for name in COMPONENTS:
        path = BASE / f"{name}.yaml"
        text = render(name)
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current == text:
            continue
        if check:
            stale.append(path)
            sys.stdout.writelines(difflib.unified_diff(current.splitlines(True), text.splitlines(True),
                                                       str(path), "generated"))
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print(f"{len(stale)} file(s) differ from deploy/k8s/gen-components.py: run it to regenerate")
        sys.exit(1)


if __name__ == "__main__":
    main()
