"""Tests of the live side: the read-only client, discovery, snapshots, snapshot files."""
