#!/usr/bin/python3
"""Checks deploy/docker/Dockerfile without a Docker engine.

- The build stage installs tools/debian-packages.txt with tools/install-deps.sh (the list of a
  developer's machine, so the two cannot drift) and nothing else.
- It copies every folder the CMake build reads, and never the build trees, var/ or .git.
- The runtime stage installs deploy/docker/runtime-packages.txt (no compiler, no -dev
  package), runs as a numeric non-root user, and gets the seven binaries from the build stage.
- With REGSUITE_BIN_DIR set (ctest): the runtime packages, with their dependencies, provide
  every shared library the built binaries load (ldd + dpkg).
"""

import os
import re
import subprocess
from pathlib import Path

from deploy_support import BINARIES, ROOT, Checker

DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"
RUNTIME_PACKAGES = ROOT / "deploy" / "docker" / "runtime-packages.txt"
BUILD_ONLY = re.compile(r"^(build-essential|gcc.*|g\+\+.*|clang.*|cmake|ninja-build|ccache|.*-dev|protobuf-compiler.*)$")


def stages():
    """[(name, [instruction lines])], continuation lines joined."""
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    result = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            parts = line.split()
            result.append((parts[3] if len(parts) > 3 and parts[2].upper() == "AS" else str(len(result)), []))
        if result:
            result[-1][1].append(line)
    return result


def package_list(path):
    names = []
    for line in path.read_text(encoding="utf-8").splitlines():
        names += line.split("#", 1)[0].split()
    return names


def cmake_top_dirs():
    """Folders the top-level CMakeLists.txt always reads: add_subdirectory and include outside
    if() blocks (those inside are options the image leaves off: tests, benchmarks)."""
    text = (ROOT / "CMakeLists.txt").read_text(encoding="utf-8")
    dirs = set()
    for m in re.finditer(r"^(add_subdirectory|include)\(([^)\s]+)", text, re.M):
        path = m.group(2)
        if "${" not in path and ("/" in path or m.group(1) == "add_subdirectory"):
            dirs.add(path.rsplit("/", 1)[0] if m.group(1) == "include" else path.rstrip("/"))
    return dirs


def installed_dependencies():
    """package -> names it depends on, for every installed package (dpkg database)."""
    out = subprocess.run(["dpkg-query", "-W", "-f", "${Package}\t${Depends}, ${Pre-Depends}\n"],
                         capture_output=True, text=True, check=True).stdout
    deps = {}
    for line in out.splitlines():
        package, _, depends = line.partition("\t")
        deps[package] = {re.split(r"[\s:(]", alt.strip())[0] for d in depends.split(",") for alt in d.split("|")
                         if alt.strip()}
    return deps


def check_runtime_libraries(c, bin_dir, runtime):
    deps = installed_dependencies()
    closure, todo = set(), list(runtime)
    while todo:
        package = todo.pop()
        if package not in closure:
            closure.add(package)
            todo += deps.get(package, ())
    libraries = set()
    for binary in BINARIES:
        path = bin_dir / binary
        if not c.check(path.is_file(), f"{path} is missing (build it)"):
            continue
        for line in subprocess.run(["ldd", str(path)], capture_output=True, text=True).stdout.splitlines():
            if "=>" in line and "/" in line.split("=>", 1)[1]:
                library = os.path.realpath(line.split("=>", 1)[1].split()[0])
                # a -DREGSUITE_SANITIZE=ON build links the sanitizer runtimes; the image is Release
                if not re.search(r"/lib(a|ub|l|t)san\.so", library):
                    libraries.add(library)
    # One dpkg -S for every library, under both spellings of the merged /usr (/lib = /usr/lib).
    spellings = {library: {library, library.replace("/usr/lib/", "/lib/", 1)} for library in libraries}
    query = sorted({path for paths in spellings.values() for path in paths})
    owners = {}
    for line in subprocess.run(["dpkg", "-S", *query], capture_output=True, text=True).stdout.splitlines():
        packages, _, path = line.partition(": ")
        owners[path.strip()] = packages.split(",")[0].split(":")[0].strip()
    for library in sorted(libraries):
        package = next((owners[p] for p in spellings[library] if p in owners), None)
        if not c.check(package is not None, f"{library}: no Debian package owns it"):
            continue
        c.check(package in closure, f"{library} comes from {package}, which the runtime packages "
                "do not pull in: add it to deploy/docker/runtime-packages.txt")
    print(f"runtime image: {len(libraries)} shared libraries of the binaries checked")


def main():
    c = Checker("check_dockerfile")
    found = stages()
    c.check(len(found) == 2, f"two stages expected (build, runtime), got {[n for n, _ in found]}")
    build = dict(found).get("build", [])
    runtime_stage = dict(found).get("runtime", [])
    joined_build = "\n".join(build)

    c.check(any(l.startswith("COPY ") and "tools/debian-packages.txt" in l for l in build),
            "the build stage must COPY tools/debian-packages.txt")
    c.check(re.search(r"^RUN .*install-deps\.sh \S*tools/debian-packages\.txt", joined_build, re.M),
            "the build stage must install tools/debian-packages.txt with tools/install-deps.sh")
    c.check("apt-get install" not in joined_build,
            "the build stage installs packages outside tools/debian-packages.txt (apt-get install)")
    c.check(re.search(r"CMAKE_BUILD_TYPE=Release\b", joined_build), "the build must be Release")

    copied = set()
    for line in build:
        if line.startswith("COPY ") and "--from" not in line:
            sources = line.split()[1:-1]
            copied |= {s.rstrip("/") for s in sources}
            for s in sources:
                c.check(s not in (".", "./", "var", "var/", ".git") and not s.startswith("build"),
                        f"COPY {s}: only the sources may enter the image (no build trees, var/, .git)")
    for needed in sorted(cmake_top_dirs()):
        c.check(any(needed == s or needed.startswith(s + "/") for s in copied),
                f"the build reads {needed}/ but the Dockerfile does not COPY it")
    targets = set(re.findall(r"--target ([^&]+)", joined_build)[0].split()) if "--target" in joined_build else set()
    c.check(targets == set(BINARIES), f"build targets {sorted(targets)}, expected {BINARIES}")

    runtime = package_list(RUNTIME_PACKAGES)
    joined_runtime = "\n".join(runtime_stage)
    c.check(re.search(r"^RUN .*install-deps\.sh \S*runtime-packages\.txt", joined_runtime, re.M),
            "the runtime stage must install deploy/docker/runtime-packages.txt with tools/install-deps.sh")
    for package in runtime:
        c.check(not BUILD_ONLY.match(package), f"runtime-packages.txt: {package} is a build tool or -dev package")
    users = [l.split()[1] for l in runtime_stage if l.startswith("USER ")]
    c.check(users and re.fullmatch(r"[1-9]\d*(:\d+)?", users[-1]),
            f"the runtime stage must end as a numeric non-root USER, got {users}")
    for line in runtime_stage:
        if line.startswith("COPY ") and "--from=build" not in line:
            for s in line.split()[1:-1]:
                c.check(s.startswith("deploy/docker/") or s == "tools/install-deps.sh",
                        f"runtime stage copies {s} from the repository")
    c.check(not any(l.startswith(("ENV ", "ARG ")) and re.search(r"PASSWORD|SECRET|MASTER_KEY", l)
                    for _, lines in found for l in lines), "a secret is set in the image")

    bin_dir = os.environ.get("REGSUITE_BIN_DIR")
    if bin_dir:
        check_runtime_libraries(c, Path(bin_dir), runtime)
    else:
        print("REGSUITE_BIN_DIR not set: the shared-library check of the runtime image is skipped")
    c.finish()


if __name__ == "__main__":
    main()
