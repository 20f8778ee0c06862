"""Notices: personal links and reminders to voters by SMS and mail, run by the credential authority.

A durable queue (notices.store) holds one record per (campaign, voter, channel); pluggable senders
(notices.senders) deliver; notices.delivery drives the queue through them with retries, rate
limits and delivery reports. Docs: docs/notices.md.
"""
