"""The weekly status report founders receive and the consultants' digest of every client."""
