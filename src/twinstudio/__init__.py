"""twinstudio: a self-hosted Digital Twin video platform with a HeyGen v3-compatible API."""

__version__ = "0.1.0"
