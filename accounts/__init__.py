"""Users, workspaces (tenants), memberships, invitations and founder access."""
