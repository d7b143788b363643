"""slamon: a streaming SLA breach monitor for contact-center operations."""

__version__ = "0.1.0"
