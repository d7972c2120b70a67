#!/usr/bin/python3
"""No secret is committed: no Kubernetes Secret object with data or stringData in any YAML or
JSON file of the repository, no private key, and no env file other than the example."""

import json
import re

import yaml

from deploy_support import ROOT, Checker, load_yaml_documents, repo_files

PRIVATE_KEY = re.compile(r"-----BEGIN ([A-Z0-9 ]+ )?PRIVATE KEY-----")


def objects(path):
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        if path.suffix == ".json":
            return [json.loads(text)]
        return load_yaml_documents(text)
    except (ValueError, yaml.YAMLError):
        return []  # not a manifest (templates, fixtures): the text scan below still applies


def secret_objects(doc):
    """Secret objects in a document, including inside a v1 List."""
    if isinstance(doc, dict):
        if doc.get("kind") == "Secret":
            yield doc
        for item in doc.get("items") or []:
            yield from secret_objects(item)


def main():
    c = Checker("check_secrets")
    files = repo_files()
    for path in files:
        relative = path.relative_to(ROOT)
        if path.suffix in (".yaml", ".yml", ".json"):
            for secret in (s for doc in objects(path) for s in secret_objects(doc)):
                c.check(not secret.get("data") and not secret.get("stringData"),
                        f"{relative}: Secret {secret.get('metadata', {}).get('name')} carries data")
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        c.check(not PRIVATE_KEY.search(text), f"{relative}: contains a private key")
        c.check(not (path.name == ".env" or path.name.endswith(".env") and path.name != "ports.env"),
                f"{relative}: an env file with credentials is committed (only *.env.example may be)")
    print(f"{len(files)} files scanned")
    c.finish()


if __name__ == "__main__":
    main()
