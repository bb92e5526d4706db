"""The client side of a shared room: the hub's HTTP API (client.py), this machine's files of a shared room
(local.py: link, outbox, confirmed copy), the replica that rebases our pending ops on the hub's (replica.py)
and the session that runs it all on threads (session.py, sending.py, following.py)."""
