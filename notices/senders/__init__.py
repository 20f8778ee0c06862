"""Pluggable senders: each channel's delivery behind the small `Sender` interface (base.py)."""
