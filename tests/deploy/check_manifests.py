#!/usr/bin/python3
"""Renders every overlay of deploy/k8s with `kubectl kustomize` and checks the objects.

No cluster is needed. kubectl: $REGSUITE_KUBECTL, else the one on PATH, else Debian's
kubernetes-client is installed (tests/deploy/kubectl-packages.txt, tools/install-deps.sh).
The kustomization stays compatible with kustomize v2.0.3 (Debian 12's kubectl 1.20) and
current kubectl. Usage: check_manifests.py [OVERLAY_DIR...]
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from deploy_support import COMPONENTS, ROOT, Checker, config_reference, load_yaml_documents
from deploy_support import settings_errors

EXPECTED_SECRETS = {
    "regsuite-datastores", "regsuite-gateway-master-key", "regsuite-service-identities",
    "regsuite-licensing-signing-key", "regsuite-exchange-platform", "regsuite-gateway-tls",
}


def find_kubectl():
    if os.environ.get("REGSUITE_KUBECTL"):
        return os.environ["REGSUITE_KUBECTL"]
    found = shutil.which("kubectl")
    if found is None:
        print("check_manifests: no kubectl on PATH: installing Debian's kubernetes-client")
        subprocess.run([str(ROOT / "tools" / "install-deps.sh"),
                        str(ROOT / "tests" / "deploy" / "kubectl-packages.txt")], check=True)
        found = shutil.which("kubectl")
    if found is None:
        sys.exit("check_manifests: kubectl is still missing")
    return found


def render(kubectl, overlay):
    result = subprocess.run([kubectl, "kustomize", str(overlay)], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"check_manifests: kubectl kustomize {overlay} failed:\n{result.stderr}")
    return load_yaml_documents(result.stdout)


def matches(selector, labels):
    """matchLabels semantics; an empty selector selects everything."""
    if selector.get("matchExpressions"):
        raise ValueError("matchExpressions are not understood by this check")
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items())


def named_ports(container):
    return {p["name"]: p["containerPort"] for p in container.get("ports", [])}


def port_number(port, container):
    return named_ports(container).get(port, port) if isinstance(port, str) else port


class Rendered:
    def __init__(self, objects):
        self.objects = objects

    def of_kind(self, kind):
        return [o for o in self.objects if o["kind"] == kind]

    def named(self, kind, name):
        return next((o for o in self.of_kind(kind) if o["metadata"]["name"] == name), None)

    def config_map(self, prefix):
        """A generated ConfigMap (name-<hash>) by its base name."""
        return next((o for o in self.of_kind("ConfigMap")
                     if o["metadata"]["name"].rsplit("-", 1)[0] == prefix), None)

    def pod_templates(self):
        for kind in ("Deployment", "Job"):
            for o in self.of_kind(kind):
                yield o, o["spec"]["template"]


def check_pod_security(c, name, template):
    spec = template["spec"]
    pod_ctx = spec.get("securityContext", {})
    c.check(spec.get("enableServiceLinks") is False,
            f"{name}: enableServiceLinks must be false (Kubernetes would inject REGSUITE_GATEWAY_PORT "
            "and friends, which the binaries reject as unknown configuration)")
    c.check(spec.get("automountServiceAccountToken") is False, f"{name}: service account token mounted")
    c.check(pod_ctx.get("runAsUser", 0) != 0, f"{name}: pod runAsUser must be a non-root uid")
    for container in spec["containers"]:
        where = f"{name}/{container['name']}"
        ctx = container.get("securityContext", {})
        c.check(ctx.get("runAsNonRoot", pod_ctx.get("runAsNonRoot")) is True, f"{where}: runAsNonRoot")
        c.check(ctx.get("readOnlyRootFilesystem") is True, f"{where}: readOnlyRootFilesystem")
        c.check(ctx.get("allowPrivilegeEscalation") is False, f"{where}: allowPrivilegeEscalation")
        c.check("ALL" in (ctx.get("capabilities", {}).get("drop") or []), f"{where}: capabilities drop ALL")
        resources = container.get("resources", {})
        for kind in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                c.check(resources.get(kind, {}).get(resource),
                        f"{where}: resources.{kind}.{resource} not set")


def check_component(c, r, reference, name, namespace):
    binary, grpc_port, other_name, other_port = COMPONENTS[name]
    dep = r.named("Deployment", name)
    if not c.check(dep is not None, f"no Deployment {name}"):
        return
    template = dep["spec"]["template"]
    pod_labels = template["metadata"]["labels"]
    c.check(matches(dep["spec"]["selector"], pod_labels), f"{name}: selector does not match its pods")
    containers = template["spec"]["containers"]
    c.check(len(containers) == 1, f"{name}: one container expected")
    container = containers[0]
    c.check(container.get("command", [None])[0] == binary, f"{name}: command must start {binary}")
    ports = named_ports(container)
    c.check(ports.get("grpc") == grpc_port and ports.get(other_name) == other_port,
            f"{name}: ports grpc={grpc_port} {other_name}={other_port} expected, got {ports}")

    # Probes: readiness and startup by grpc.health.v1 on the gRPC port; liveness on /healthz.
    for probe in ("readinessProbe", "startupProbe"):
        grpc = container.get(probe, {}).get("grpc")
        c.check(grpc is not None and port_number(grpc.get("port"), container) == grpc_port,
                f"{name}: {probe} must be a native gRPC probe on port {grpc_port}")
    liveness = container.get("livenessProbe", {})
    http = liveness.get("httpGet") or {}
    c.check(http.get("path") == "/healthz" and port_number(http.get("port"), container) == other_port,
            f"{name}: livenessProbe must be GET /healthz on {other_port} (independent of the data stores)")

    # Configuration: the file the container reads and its environment, as the binary sees them.
    config_map = r.config_map("regsuite-config")
    env_map = r.config_map("regsuite-env")
    file_text = (config_map or {}).get("data", {}).get(f"{name}.conf")
    c.check(file_text is not None, f"{name}: regsuite-config has no {name}.conf")
    c.check(container.get("args") == ["--config", f"/etc/regsuite/config/{name}.conf"],
            f"{name}: args must be --config /etc/regsuite/config/{name}.conf")
    env = dict((env_map or {}).get("data", {}))
    env.update({e["name"]: e.get("value", "") for e in container.get("env", [])})
    for error in settings_errors(reference, binary, env=env, file_text=file_text):
        c.fail(f"{name}: {error}")
    c.check(not any(k.startswith("REGSUITE_CLOCK_") for k in env) and "[clock]" not in (file_text or ""),
            f"{name}: the test-only clock.* settings must never be deployed")
    # docs/operations.md runs regctl inside the pods (kubectl exec): it must accept their environment
    for error in settings_errors(reference, "regctl", env=env):
        c.fail(f"{name}: regctl in this pod: {error}")
    c.check(f"grpc_listen = 0.0.0.0:{grpc_port}" in (file_text or ""),
            f"{name}: server.grpc_listen must be 0.0.0.0:{grpc_port} (reachable through the Service)")

    if name == "licensing":  # earlier signing keys' public halves (docs/operations.md, rotation)
        keys_dir = env.get("REGSUITE_LICENSING_VERIFICATION_PUBLIC_KEYS_DIR")
        mount = next((m for m in container.get("volumeMounts", []) if m.get("mountPath") == keys_dir), None)
        volume = next((v for v in template["spec"].get("volumes", [])
                       if mount is not None and v.get("name") == mount.get("name")), None)
        c.check(keys_dir is not None and volume is not None and
                volume.get("configMap", {}).get("name") == "regsuite-licensing-verification-keys",
                "licensing: licensing.verification_public_keys_dir must be the mounted ConfigMap "
                "regsuite-licensing-verification-keys")

    svc = r.named("Service", name)
    if c.check(svc is not None, f"no Service {name}"):
        c.check(matches({"matchLabels": svc["spec"]["selector"]}, pod_labels),
                f"Service {name} does not select its pods")
        c.check({p["port"] for p in svc["spec"]["ports"]} >= {grpc_port, other_port},
                f"Service {name} must expose {grpc_port} and {other_port}")
    hpa = r.named("HorizontalPodAutoscaler", name)
    if c.check(hpa is not None, f"no HorizontalPodAutoscaler {name}"):
        target = hpa["spec"]["scaleTargetRef"]
        c.check(target["kind"] == "Deployment" and target["name"] == name, f"HPA {name} targets {target}")
        c.check(1 <= hpa["spec"].get("minReplicas", 1) <= hpa["spec"]["maxReplicas"],
                f"HPA {name}: minReplicas/maxReplicas")
        if name == "exchange":  # the platform push runs in one process (services/exchange/README.md)
            c.check(hpa["spec"]["maxReplicas"] == 1, "HPA exchange: maxReplicas must stay 1 (one pusher)")
            c.check(dep["spec"].get("strategy", {}).get("type") == "Recreate",
                    "exchange: strategy Recreate, so that a rollout never runs two pushers")
    pdb = r.named("PodDisruptionBudget", name)
    if c.check(pdb is not None, f"no PodDisruptionBudget {name}"):
        c.check(matches(pdb["spec"]["selector"], pod_labels), f"PDB {name} does not select its pods")
    for o in (dep, svc, hpa, pdb):
        if o is not None:
            c.check(o["metadata"].get("namespace") == namespace,
                    f"{o['kind']} {name} is not in namespace {namespace}")


def ingress_rules(r, pod_labels):
    """Every ingress rule of the NetworkPolicies that select pods with these labels."""
    rules = []
    for policy in r.of_kind("NetworkPolicy"):
        spec = policy["spec"]
        if "Ingress" in spec.get("policyTypes", ["Ingress"]) and matches(spec["podSelector"], pod_labels):
            rules += [(policy["metadata"]["name"], rule) for rule in spec.get("ingress") or []]
    return rules


def check_network_policies(c, r):
    policies = r.of_kind("NetworkPolicy")
    c.check(any(p["spec"]["podSelector"] == {} and {"Ingress", "Egress"} <= set(p["spec"].get("policyTypes", []))
                and not p["spec"].get("ingress") and not p["spec"].get("egress") for p in policies),
            "no default-deny NetworkPolicy (empty podSelector, Ingress and Egress, no rules)")
    gateway = r.named("Deployment", "gateway")
    gateway_labels = gateway["spec"]["template"]["metadata"]["labels"]

    def only_gateway(peer):
        return "podSelector" in peer and "namespaceSelector" not in peer and "ipBlock" not in peer and \
            all(matches(peer["podSelector"], d["spec"]["template"]["metadata"]["labels"]) == (d["metadata"]["name"] == "gateway")
                for d in r.of_kind("Deployment"))

    for dep in r.of_kind("Deployment"):
        name = dep["metadata"]["name"]
        container = dep["spec"]["template"]["spec"]["containers"][0]
        labels = dep["spec"]["template"]["metadata"]["labels"]
        rules = ingress_rules(r, labels)
        grpc_port = named_ports(container)["grpc"]
        if name == "gateway":
            open_ports = {port_number(p["port"], container) for _, rule in rules if not rule.get("from")
                          for p in rule.get("ports", [])}
            c.check({7000, 7080} <= open_ports, "gateway: gRPC 7000 and HTTP 7080 must be open to callers")
            continue
        c.check(rules, f"{name}: no NetworkPolicy lets the gateway in")
        gateway_to_grpc = False
        for policy, rule in rules:
            peers = rule.get("from") or []
            rule_ports = {port_number(p.get("port"), container) for p in rule.get("ports") or [{}]}
            c.check(peers, f"{name}: NetworkPolicy {policy} admits traffic from anywhere")
            for peer in peers:
                if only_gateway(peer):
                    gateway_to_grpc |= grpc_port in rule_ports
                else:
                    c.check(grpc_port not in rule_ports and None not in rule_ports,
                            f"{name}: NetworkPolicy {policy} admits {peer} to more than the metrics port")
        c.check(gateway_to_grpc, f"{name}: the gateway may not reach gRPC port {grpc_port}")
        # egress both ways between the gateway and the service
        c.check(egress_allows(r, gateway_labels, dep, grpc_port), f"gateway may not send to {name}:{grpc_port}")
        c.check(egress_allows(r, labels, gateway, 7000), f"{name} may not send to the gateway:7000")
    for dep_or_job, template in r.pod_templates():
        labels = template["metadata"]["labels"]
        for port in (53, 5432, 6379):
            c.check(egress_allows(r, labels, None, port),
                    f"{dep_or_job['metadata']['name']}: no egress to port {port}")


def egress_allows(r, from_labels, to, port):
    """True when a policy selecting pods with from_labels allows egress to `port` of the pods of
    Deployment `to` (None: a destination outside the namespace, such as a managed database)."""
    to_container = to["spec"]["template"]["spec"]["containers"][0] if to else {}
    to_labels = to["spec"]["template"]["metadata"]["labels"] if to else None
    for policy in r.of_kind("NetworkPolicy"):
        spec = policy["spec"]
        if "Egress" not in spec.get("policyTypes", []) or not matches(spec["podSelector"], from_labels):
            continue
        for rule in spec.get("egress") or []:
            ports = rule.get("ports") or [{}]
            if not any(p.get("port") is None or port_number(p["port"], to_container) == port for p in ports):
                continue
            peers = rule.get("to") or []
            if not peers or (to_labels is not None and any(
                    "podSelector" in peer and "namespaceSelector" not in peer and matches(peer["podSelector"], to_labels)
                    for peer in peers)):
                return True
    return False


def check_migrations_and_calendar(c, r):
    job = r.named("Job", "regsuite-migrate")
    if not c.check(job is not None, "no Job regsuite-migrate"):
        return
    container = job["spec"]["template"]["spec"]["containers"][0]
    script = " ".join(container.get("command", []) + container.get("args", []))
    c.check("regctl migrate" in script, "the migrations Job must run regctl migrate")
    c.check("regctl calendar load" in script, "the migrations Job must load the calendar files")
    calendar = r.config_map("regsuite-calendar")
    if not c.check(calendar is not None, "no ConfigMap regsuite-calendar"):
        return
    volumes = job["spec"]["template"]["spec"].get("volumes", [])
    c.check(any(v.get("configMap", {}).get("name") == calendar["metadata"]["name"] for v in volumes),
            "the migrations Job does not mount the calendar ConfigMap")
    data = calendar.get("data", {})
    for builtin in sorted((ROOT / "services" / "common" / "data" / "calendar").glob("*.tsv")):
        c.check(data.get(builtin.name) == builtin.read_text(encoding="utf-8"),
                f"regsuite-calendar/{builtin.name} differs from services/common/data/calendar/{builtin.name} "
                "(copy the file into deploy/k8s/base/calendar/)")
    for extra in sorted((ROOT / "deploy" / "k8s" / "base" / "calendar").glob("*.tsv")):
        c.check(extra.name in data, f"deploy/k8s/base/calendar/{extra.name} is not in the configMapGenerator")


def check_images_secrets_ingress(c, r, overlay):
    images = {container["image"] for _, t in r.pod_templates() for container in t["spec"]["containers"]}
    c.check(len(images) == 1, f"one image expected for every container, got {sorted(images)}")
    for image in images:
        c.check(":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest"),
                f"{overlay.name}: image {image} must carry a pinned tag")
    c.check(not r.of_kind("Secret"), "Secrets must be referenced, never rendered from the repository")
    referenced = {v["secret"]["secretName"] for _, t in r.pod_templates() for v in t["spec"].get("volumes", [])
                  if "secret" in v}
    referenced |= {tls["secretName"] for i in r.of_kind("Ingress") for tls in i["spec"].get("tls", [])}
    c.check(referenced == EXPECTED_SECRETS, f"Secrets referenced: {sorted(referenced)}, expected "
            f"{sorted(EXPECTED_SECRETS)} (docs/operations.md tells how to create each)")
    operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    for secret in sorted(referenced):
        c.check(secret in operations, f"docs/operations.md does not explain the Secret {secret}")
    published = set()
    for ingress in r.of_kind("Ingress"):
        name = ingress["metadata"]["name"]
        tls_hosts = {h for tls in ingress["spec"].get("tls", []) for h in tls.get("hosts", [])}
        for rule in ingress["spec"]["rules"]:
            c.check(rule.get("host") in tls_hosts, f"Ingress {name}: host {rule.get('host')} has no TLS")
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                c.check(backend["name"] == "gateway", f"Ingress {name} routes to {backend['name']}, not the gateway")
                published.add(backend["port"].get("name") or backend["port"].get("number"))
        if "grpc" in name:
            c.check(ingress["metadata"].get("annotations", {}).get("nginx.ingress.kubernetes.io/backend-protocol")
                    == "GRPC", f"Ingress {name}: the backend protocol must be GRPC")
    c.check({"grpc", "http"} <= published, f"the Ingresses publish {published}; gateway grpc and http expected")


def check_overlay(c, kubectl, overlay, reference):
    r = Rendered(render(kubectl, overlay))
    namespaces = [o["metadata"]["name"] for o in r.of_kind("Namespace")]
    if not c.check(len(namespaces) == 1, f"{overlay.name}: one Namespace expected, got {namespaces}"):
        return
    deployments = {d["metadata"]["name"] for d in r.of_kind("Deployment")}
    c.check(deployments == set(COMPONENTS), f"{overlay.name}: Deployments {sorted(deployments)}")
    for name in COMPONENTS:
        check_component(c, r, reference, name, namespaces[0])
    for owner, template in r.pod_templates():
        check_pod_security(c, f"{overlay.name}:{owner['kind']}/{owner['metadata']['name']}", template)
    job = r.named("Job", "regsuite-migrate")
    if job is not None:
        env = dict((r.config_map("regsuite-env") or {}).get("data", {}))
        env.update({e["name"]: e.get("value", "") for e in job["spec"]["template"]["spec"]["containers"][0].get("env", [])})
        for error in settings_errors(reference, "regctl", env=env):
            c.fail(f"{overlay.name}: migrations Job: {error}")
    check_network_policies(c, r)
    check_migrations_and_calendar(c, r)
    check_images_secrets_ingress(c, r, overlay)
    print(f"{overlay.name}: {len(r.objects)} objects rendered")


def main():
    c = Checker("check_manifests")
    kubectl = find_kubectl()
    overlays = [Path(p) for p in sys.argv[1:]] or sorted(p for p in (ROOT / "deploy" / "k8s" / "overlays").iterdir()
                                                        if (p / "kustomization.yaml").is_file())
    c.check({o.name for o in overlays} >= {"dev", "prod"} or sys.argv[1:], "overlays dev and prod expected")
    generated = subprocess.run(["/usr/bin/python3", str(ROOT / "deploy" / "k8s" / "gen-components.py"), "--check"],
                               capture_output=True, text=True)
    c.check(generated.returncode == 0, "deploy/k8s/base/<component>.yaml differ from "
            f"deploy/k8s/gen-components.py (run it to regenerate):\n{generated.stdout}")
    reference = config_reference()
    for overlay in overlays:
        check_overlay(c, kubectl, overlay, reference)
    c.finish()


if __name__ == "__main__":
    main()
