"""libdecaf against libsodium: the same group, the same encodings, the same refusals. Two
independent implementations that agree on seeded random inputs are the check on the binding."""

from __future__ import annotations

import ctypes
import random
import subprocess
import sys

import pytest
import rbcl

from votestore.crypto import decaf, group
from votestore.crypto.group import GENERATOR, IDENTITY, L
from votestore.errors import DecodeError, MissingLibrary

SEED = 20261122
# p = 2^255 - 19 itself: a non-canonical field encoding (RFC 9496).
_FIELD_PRIME = bytes.fromhex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")


def _scalars(count: int) -> list[int]:
    rng = random.Random(SEED)
    return [rng.randrange(1, L) for _ in range(count)] + [1, 2, L - 1]


@pytest.mark.parametrize("k", _scalars(20))
def test_arithmetic_matches_libsodium(k: int) -> None:
    point = group.base_mult((k * 7 + 3) % L)
    element = decaf.Element.decode(point)
    assert decaf.base_mult(k).encode() == group.base_mult(k)
    assert decaf.table_for(point).mult(k).encode() == group.mult(k, point)
    assert decaf.Table(element).mult(k).encode() == group.mult(k, point)
    expected = group.add(group.base_mult(k), group.mult(L - k, point))
    assert decaf.base_double_mult_vartime(k, element, L - k).encode() == expected
    assert (element + decaf.base_mult(k)).encode() == group.add(point, group.base_mult(k))
    assert (element - decaf.base_mult(k)).encode() == group.sub(point, group.base_mult(k))
    assert decaf.sum_elements([element, element, element]).encode() == group.mult(3, point)
    assert element.encode() == point
    assert decaf.Element.from_internal(element.internal()).encode() == point
    blob = element.internal() + decaf.base_mult(k).internal()
    assert [e.encode() for e in decaf.sum_internal([blob, blob], 2)] == [
        group.mult(2, point),
        group.base_mult(2 * k % L),
    ]


def test_identity_and_empty_sum() -> None:
    assert decaf.identity().encode() == IDENTITY
    assert decaf.sum_elements([]).encode() == IDENTITY
    assert decaf.base_mult(L).encode() == IDENTITY
    assert decaf.Element.decode(GENERATOR) == decaf.base_mult(1)


def test_decoding_agrees_with_libsodium_on_random_strings() -> None:
    """Random strings, and every valid one again with the top bit set: libsodium 1.0.18 accepts
    that bit (a second encoding of the point), libdecaf and group.decode_point refuse it."""
    rng = random.Random(SEED)
    valid = 0
    for _ in range(20_000):
        data = rng.randbytes(32)
        try:
            group.decode_point(data, allow_identity=True)
            ours = True
        except DecodeError:
            ours = False
        try:
            decaf.Element.decode(data, allow_identity=True)
            theirs = True
        except DecodeError:
            theirs = False
        assert ours == theirs, data.hex()
        if ours and not data[31] & 0x80:
            valid += 1
            flipped = data[:31] + bytes([data[31] | 0x80])
            assert rbcl.crypto_core_ristretto255_is_valid_point(flipped), "libsodium fixed? revisit group.py"
            with pytest.raises(DecodeError):
                decaf.Element.decode(flipped, allow_identity=True)
    assert valid > 1_000, valid  # about one string in eight is a valid encoding


@pytest.mark.parametrize(
    ("data", "allow_identity", "why"),
    [
        (GENERATOR[:31], False, "32 bytes"),
        (IDENTITY, False, "identity"),
        (bytes([0xFF]) * 32, True, "canonical"),
        (
            bytes.fromhex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
            True,
            "canonical",
        ),
    ],
)
def test_decode_refuses(data: bytes, allow_identity: bool, why: str) -> None:
    with pytest.raises(DecodeError, match=why):
        decaf.Element.decode(data, allow_identity=allow_identity)


def test_missing_library_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(name: str, *args: object, **kwargs: object) -> ctypes.CDLL:
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(ctypes, "CDLL", refuse)
    with pytest.raises(MissingLibrary, match="apt-get install libdecaf0"):
        decaf._load()


def test_cli_without_libdecaf_prints_one_line() -> None:
    script = (
        "import ctypes, sys\n"
        "real = ctypes.CDLL\n"
        "def cdll(name, *a, **k):\n"
        "    if 'decaf' in str(name): raise OSError('absent')\n"
        "    return real(name, *a, **k)\n"
        "ctypes.CDLL = cdll\n"
        "from ops.cli.main import main\n"
        "sys.argv = ['votestore', '--help']\n"
        "main()\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result
    assert result.stderr.startswith("error: votestore needs libdecaf"), result.stderr
    assert "Traceback" not in result.stderr
