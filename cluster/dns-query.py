#!/usr/bin/env python3
"""Ask one DNS server for the IPv4 addresses of a name, over UDP, without any other resolver:
how `cluster.sh` checks that the cluster DNS answers (the machine's resolver is never used).

Usage: dns-query.py NAME SERVER [PORT]   prints the addresses, one a line; exit 1 if none.
"""

import random
import socket
import struct
import sys


def skip_name(message: bytes, offset: int) -> int:
    """The offset after a (possibly compressed) domain name."""
    while message[offset] != 0:
        if message[offset] & 0xC0 == 0xC0:  # a pointer ends the name
            return offset + 2
        offset += message[offset] + 1
    return offset + 1


def query(name: str, server: str, port: int = 53, timeout: float = 2.0) -> list[str]:
    ident = random.randrange(1 << 16)
    header = struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0)  # recursion desired, 1 question
    question = b"".join(
        bytes([len(label)]) + label.encode() for label in name.rstrip(".").split(".")
    )
    packet = header + question + b"\0" + struct.pack(">HH", 1, 1)  # type A, class IN
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(packet, (server, port))
        reply = sock.recv(4096)
    got_id, flags, _, answers, _, _ = struct.unpack(">HHHHHH", reply[:12])
    if got_id != ident or flags & 0x000F:  # wrong reply or an error rcode (NXDOMAIN, REFUSED...)
        return []
    offset = len(packet)  # the reply repeats the question
    addresses = []
    for _ in range(answers):
        offset = skip_name(reply, offset)
        rtype, _, _, length = struct.unpack(">HHIH", reply[offset : offset + 10])
        offset += 10
        if rtype == 1 and length == 4:
            addresses.append(socket.inet_ntoa(reply[offset : offset + 4]))
        offset += length
    return addresses


def main() -> int:
    if len(sys.argv) not in (3, 4):
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    port = int(sys.argv[3]) if len(sys.argv) == 4 else 53
    try:
        addresses = query(sys.argv[1], sys.argv[2], port)
    except OSError as error:
        print(f"no answer from {sys.argv[2]}:{port}: {error}", file=sys.stderr)
        return 1
    print("\n".join(addresses))
    return 0 if addresses else 1


if __name__ == "__main__":
    sys.exit(main())
