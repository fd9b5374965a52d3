"""Webhooks: a durable outbox of events, Standard-Webhooks signing, at-least-once delivery."""
