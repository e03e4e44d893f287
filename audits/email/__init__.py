"""Email authentication: SPF, DKIM and DMARC."""
