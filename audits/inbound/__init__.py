"""Email the product receives: the SMTP receiver, the addresses it issues and the verdict on each message."""
