"""The Python client SDK: fetch an election, encrypt and prove locally, sign, cast through a
gateway, wait for the receipt, check it offline."""
