"""Ballot cryptography on ristretto255: exponential ElGamal, Chaum-Pedersen proofs, distributed
key generation, threshold decryption, voter credentials and sealed secrets (see docs/crypto.md).
Import the modules directly: `from votestore.crypto import ballot, dkg, decryption`."""
