"""What the fixture scripts share: deterministic tokens, the JSON layout of a cassette file, and
a last check that nothing shaped like a key is written."""

from __future__ import annotations

import hashlib
import json
import re

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
B = B58


def stable_token(seed: str, n: int, alphabet: str = ALNUM) -> str:
    """Deterministic pseudo-random token, so re-running a script gives the same bytes."""
    out, counter = [], 0
    while len(out) < n:
        h = hashlib.sha256(f"{seed}/{counter}".encode()).digest()
        out.extend(alphabet[b % len(alphabet)] for b in h)
        counter += 1
    return "".join(out[:n])


def anthropic_message_id(seed: str) -> str:
    return "msg_01" + stable_token(seed, 22, B58)


SECRET_PATTERNS = [
    re.compile(r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{6,}"),
    re.compile(r"(?i)bearer\s+[A-Za-z0-9._-]{8,}"),
    re.compile(r"(?i)\"(x-api-key|authorization|api[-_]key)\""),
    re.compile(r"AIza[0-9A-Za-z_-]{20,}"),
]


def check_secrets(text: str, where: str) -> None:
    for pat in SECRET_PATTERNS:
        m = pat.search(text)
        assert m is None, f"{where}: possible secret `{m.group(0)[:12]}...`"


def dump(obj) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"
