"""The Git source against real repositories: revisions, fetches, failures, read-only."""

from __future__ import annotations

import base64
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from driftwatch.errors import SourceFetchError
from driftwatch.service.git_poll import remote_sha
from driftwatch.source import GitSource, safe_url
from tests.desired.conftest import Remote, git, make_target


def test_branch_checkout_holds_the_tree_and_commit_details(
    remote: Remote, source: GitSource
) -> None:
    sha = remote.commit({"app.yaml": "a: 1\n", "sub/b.yaml": "b: 2\n"}, "first commit")
    remote.push("main")
    before = remote.snapshot()

    co = source.checkout(make_target(remote.bare, rev="main"))

    assert co.revision.sha == sha
    assert (co.root / "app.yaml").read_text() == "a: 1\n"
    assert (co.root / "sub" / "b.yaml").read_text() == "b: 2\n"
    assert not (co.root / ".git").exists()
    assert co.revision.subject == "first commit"
    assert co.revision.author == "Dana Dev"
    assert co.revision.ref == "main"
    assert co.revision.time[:4].isdigit() and "T" in co.revision.time
    assert co.revision.repository == str(remote.bare)
    assert not co.stale and co.fetch_error is None
    assert remote.snapshot() == before


def test_head_tag_short_and_full_sha_all_resolve(remote: Remote, source: GitSource) -> None:
    first = remote.commit({"f.yaml": "v: 1\n"})
    git(remote.work, "tag", "-a", "v1", "-m", "release 1")
    second = remote.commit({"f.yaml": "v: 2\n"})
    remote.push("main", "--tags")

    assert source.checkout(make_target(remote.bare)).revision.sha == second
    assert source.checkout(make_target(remote.bare, rev="v1")).revision.sha == first
    assert source.checkout(make_target(remote.bare, rev=first[:8])).revision.sha == first
    full = source.checkout(make_target(remote.bare, rev=first))
    assert full.revision.sha == first
    assert (full.root / "f.yaml").read_text() == "v: 1\n"


def test_later_fetch_picks_up_a_new_commit(remote: Remote, source: GitSource) -> None:
    remote.commit({"f.yaml": "v: 1\n"})
    remote.push("main")
    target = make_target(remote.bare, rev="main")
    first = source.checkout(target)

    new = remote.commit({"f.yaml": "v: 2\n"})
    remote.push("main")
    second = source.checkout(target)

    assert second.revision.sha == new != first.revision.sha
    assert (second.root / "f.yaml").read_text() == "v: 2\n"
    assert (first.root / "f.yaml").read_text() == "v: 1\n", "old trees are not rewritten"


def test_force_push_rewriting_history_is_followed(remote: Remote, source: GitSource) -> None:
    remote.commit({"f.yaml": "v: 1\n"})
    remote.commit({"f.yaml": "v: bad\n"}, "to be rewritten")
    remote.push("main")
    target = make_target(remote.bare, rev="main")
    assert (source.checkout(target).root / "f.yaml").read_text() == "v: bad\n"

    git(remote.work, "reset", "--hard", "HEAD~1")
    rewritten = remote.commit({"f.yaml": "v: rewritten\n"}, "rewritten")
    remote.push("main", force=True)

    co = source.checkout(target)
    assert co.revision.sha == rewritten
    assert (co.root / "f.yaml").read_text() == "v: rewritten\n"


def test_moved_tag_is_followed(remote: Remote, source: GitSource) -> None:
    remote.commit({"f.yaml": "v: 1\n"})
    git(remote.work, "tag", "stable")
    remote.push("main", "--tags")
    target = make_target(remote.bare, rev="stable")
    source.checkout(target)

    moved = remote.commit({"f.yaml": "v: 2\n"})
    git(remote.work, "tag", "--force", "stable")
    remote.push("main", "--tags", force=True)

    assert source.checkout(target).revision.sha == moved


def test_nonexistent_revision_is_a_clear_error(remote: Remote, source: GitSource) -> None:
    remote.commit({"f.yaml": "v: 1\n"})
    remote.push("main")
    with pytest.raises(SourceFetchError, match=r"revision 'no-such-branch' not found"):
        source.checkout(make_target(remote.bare, rev="no-such-branch"))
    with pytest.raises(SourceFetchError, match="not found"):
        source.checkout(make_target(remote.bare, rev="deadbeef" * 5))


def test_unreachable_remote_after_first_fetch_is_stale_last_good_commit(
    remote: Remote, source: GitSource, tmp_path: Path
) -> None:
    good = remote.commit({"f.yaml": "v: 1\n"})
    remote.push("main")
    target = make_target(remote.bare, rev="main")
    source.checkout(target)

    shutil.move(remote.bare, tmp_path / "gone.git")
    co = source.checkout(target)

    assert co.stale is True
    assert co.revision.sha == good
    assert co.fetch_error is not None and "fetch" in co.fetch_error
    assert (co.root / "f.yaml").read_text() == "v: 1\n"


def test_unreachable_remote_without_cache_raises(tmp_path: Path, source: GitSource) -> None:
    with pytest.raises(SourceFetchError, match="fetch"):
        source.checkout(make_target(tmp_path / "nowhere.git"))


def _corrupt(cache: Path) -> None:
    repo = next((cache / "repos").glob("*.git"))
    for obj in (repo / "objects").rglob("*"):
        if obj.is_file():
            obj.chmod(0o644)
            obj.write_bytes(b"garbage")
    (repo / "HEAD").write_text("not a ref at all\n")


def test_corrupted_cache_is_removed_and_cloned_again(remote: Remote, tmp_path: Path) -> None:
    cache = tmp_path / "gitcache"
    source = GitSource(cache)
    remote.commit({"f.yaml": "v: 1\n"})
    remote.push("main")
    target = make_target(remote.bare, rev="main")
    source.checkout(target)
    shutil.rmtree(cache / "trees", ignore_errors=True)
    _corrupt(cache)

    newer = remote.commit({"f.yaml": "v: 2\n"})
    remote.push("main")
    co = source.checkout(target)

    assert co.revision.sha == newer and not co.stale
    assert (co.root / "f.yaml").read_text() == "v: 2\n"


def test_corrupted_objects_with_intact_refs_are_recloned(remote: Remote, tmp_path: Path) -> None:
    cache = tmp_path / "gitcache"
    source = GitSource(cache)
    sha = remote.commit({"f.yaml": "v: 1\n"})
    remote.push("main")
    target = make_target(remote.bare, rev="main")
    source.checkout(target)
    shutil.rmtree(cache / "trees", ignore_errors=True)
    repo = next((cache / "repos").glob("*.git"))
    shutil.rmtree(repo / "objects")
    (repo / "objects").mkdir()

    co = source.checkout(target)
    assert co.revision.sha == sha
    assert (co.root / "f.yaml").read_text() == "v: 1\n"


def test_credentials_never_appear_in_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "ghp_SuperSecretToken123456"
    monkeypatch.setenv("DW_TEST_TOKEN", "env-secret-token-987")
    source = GitSource(tmp_path / "c", timeout=30)
    # Port 9 on 127.0.0.1: connection refused, quickly and without leaving the host.
    url = f"https://bot:{token}@127.0.0.1:9/org/repo.git"
    with pytest.raises(SourceFetchError) as info:
        source.checkout(make_target(url))
    message = str(info.value)
    assert token not in message and "bot:" not in message
    assert "127.0.0.1:9/org/repo.git" in message

    target = make_target(
        "https://127.0.0.1:9/org/repo.git", credentials={"tokenEnv": "DW_TEST_TOKEN"}
    )
    with pytest.raises(SourceFetchError) as info:
        source.checkout(target)
    assert "env-secret-token-987" not in str(info.value)
    on_disk = b"".join(p.read_bytes() for p in (tmp_path / "c").rglob("*") if p.is_file())
    assert token.encode() not in on_disk and b"env-secret-token-987" not in on_disk


def test_missing_token_source_is_named(tmp_path: Path, source: GitSource) -> None:
    target = make_target("https://127.0.0.1:9/r.git", credentials={"tokenEnv": "DW_UNSET_VAR"})
    with pytest.raises(SourceFetchError, match="DW_UNSET_VAR"):
        source.checkout(target)
    target = make_target(
        "https://127.0.0.1:9/r.git", credentials={"tokenFile": str(tmp_path / "no-token")}
    )
    with pytest.raises(SourceFetchError, match="no-token"):
        source.checkout(target)


def test_working_directory_path_is_a_repo(remote: Remote, source: GitSource) -> None:
    sha = remote.commit({"f.yaml": "v: 1\n"})
    (remote.work / "f.yaml").write_text("uncommitted\n")
    co = source.checkout(make_target(remote.work))
    assert co.revision.sha == sha
    assert (co.root / "f.yaml").read_text() == "v: 1\n", "only committed state is rendered"


def test_remote_is_never_written(remote: Remote, source: GitSource, tmp_path: Path) -> None:
    remote.commit({"f.yaml": "v: 1\n"})
    git(remote.work, "tag", "v1")
    remote.push("main", "--tags")
    before = remote.snapshot()
    for rev in ("HEAD", "main", "v1", "missing"):
        try:
            source.checkout(make_target(remote.bare, rev=rev))
        except SourceFetchError:
            pass
        assert remote.snapshot() == before, f"remote changed after checkout of {rev}"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:pw@git.example.com/o/r.git", "https://git.example.com/o/r.git"),
        ("https://tok@git.example.com/o/r.git", "https://git.example.com/o/r.git"),
        ("ssh://git:pw@host/r.git", "ssh://git@host/r.git"),
        ("git@github.com:o/r.git", "git@github.com:o/r.git"),
        ("/srv/repo", "/srv/repo"),
    ],
)
def test_safe_url_strips_credentials(url: str, shown: str) -> None:
    assert safe_url(url) == shown


class _AuthRecorder(BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self) -> None:
        header = self.headers.get("Authorization")
        if header:
            type(self).seen.append(base64.b64decode(header.split()[1]).decode())
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="git"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_token_reaches_git_only_through_its_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "tok-from-env-5550123"
    monkeypatch.setenv("DW_HTTP_TOKEN", token)
    _AuthRecorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AuthRecorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/org/repo.git"
        target = make_target(url, credentials={"tokenEnv": "DW_HTTP_TOKEN", "username": "bot"})
        with pytest.raises(SourceFetchError) as info:
            GitSource(tmp_path / "c", timeout=30).checkout(target)
    finally:
        server.shutdown()
        server.server_close()
    assert f"bot:{token}" in _AuthRecorder.seen, "the token was offered to the server"
    assert token not in str(info.value)
    on_disk = b"".join(p.read_bytes() for p in (tmp_path / "c").rglob("*") if p.is_file())
    assert token.encode() not in on_disk


def test_ssh_key_and_known_hosts_go_through_git_ssh_command(tmp_path: Path) -> None:
    from driftwatch.config.model import GitCredentials
    from driftwatch.source.credentials import git_auth
    from driftwatch.source.urls import split_credentials

    key = tmp_path / "my key"
    creds = GitCredentials(ssh_key_file=str(key), known_hosts_file="/etc/dw/known_hosts")
    auth = git_auth(creds, split_credentials("ssh://git@host/r.git"), tmp_path)
    command = auth.env["GIT_SSH_COMMAND"]
    assert f"-i '{key}'" in command
    assert "StrictHostKeyChecking=yes" in command and "BatchMode=yes" in command
    assert "UserKnownHostsFile=/etc/dw/known_hosts" in command
    assert "GIT_ASKPASS" not in auth.env


def test_concurrent_checkouts_of_one_repository(remote: Remote, source: GitSource) -> None:
    first = remote.commit({"f.yaml": "v: 1\n"})
    git(remote.work, "tag", "v1")
    second = remote.commit({"f.yaml": "v: 2\n"})
    remote.push("main", "--tags")
    results: dict[str, str] = {}

    def run(rev: str) -> None:
        results[rev] = source.checkout(make_target(remote.bare, rev=rev)).revision.sha

    threads = [threading.Thread(target=run, args=(rev,)) for rev in ("main", "v1", "HEAD")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {"main": second, "v1": first, "HEAD": second}


def test_the_git_poll_watches_the_commit_the_checkout_resolves(
    remote: Remote, source: GitSource, tmp_path: Path
) -> None:
    """A name that is both a branch and a tag means the branch; a tag means its commit."""
    tagged = remote.commit({"f.yaml": "v: 1\n"})
    git(remote.work, "tag", "-a", "release", "-m", "an annotated tag named like the branch")
    git(remote.work, "tag", "-a", "v1", "-m", "release 1")
    git(remote.work, "checkout", "--quiet", "-b", "release")
    branch = remote.commit({"f.yaml": "v: 2\n"})
    head = git(remote.work, "rev-parse", "main")
    remote.push("main", "refs/heads/release", "--tags")

    expected = {
        "HEAD": head,
        "main": head,
        "release": branch,
        "refs/tags/release": tagged,
        "v1": tagged,
        "refs/heads/release": branch,
    }
    for rev, sha in expected.items():
        target = make_target(remote.bare, rev=rev)
        assert source.checkout(target).revision.sha == sha, rev
        assert remote_sha(target, tmp_path / "poll") == sha, rev
    assert remote_sha(make_target(remote.bare, rev=tagged), tmp_path / "poll") is None
