#!/usr/bin/env python3
"""Write a single-layer docker-archive image tarball (what `docker save` writes)
holding one static binary, without Docker or a registry.

Usage: make-image.py --tag REF --binary PATH --dest /name --out image.tar [--arg A ...]
The output is byte-for-byte reproducible for the same inputs.
"""

import argparse
import hashlib
import io
import json
import tarfile

EPOCH = 0  # fixed mtimes keep the image ID stable, so re-imports are no-ops


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, EPOCH
    tar.addfile(info, io.BytesIO(data))


def layer_tar(binary: bytes, dest: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        add_bytes(tar, dest.lstrip("/"), binary, 0o755)
    return buf.getvalue()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--tag", required=True)
    p.add_argument("--binary", required=True)
    p.add_argument("--dest", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--arg", action="append", default=[], help="default Cmd arguments")
    a = p.parse_args()

    with open(a.binary, "rb") as f:
        layer = layer_tar(f.read(), a.dest)
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": {
            "Entrypoint": [a.dest],
            "Cmd": a.arg or None,
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "WorkingDir": "/",
        },
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "demo-orq make-image.py"}],
    }
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    layer_name = diff_id.split(":")[1] + "/layer.tar"
    manifest = [{"Config": config_name, "RepoTags": [a.tag], "Layers": [layer_name]}]

    with tarfile.open(a.out, "w", format=tarfile.USTAR_FORMAT) as tar:
        add_bytes(tar, config_name, config_bytes)
        add_bytes(tar, layer_name, layer)
        add_bytes(tar, "manifest.json", json.dumps(manifest).encode())


if __name__ == "__main__":
    main()
