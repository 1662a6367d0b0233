"""The project's git commit, read from .git files (no git binary)."""

from joules_worker.gitinfo import git_commit

A = "a" * 40
B = "b" * 40


def repo(tmp_path):
    git = tmp_path / "proj" / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (tmp_path / "proj" / "pkg").mkdir()
    return git


def test_loose_ref(tmp_path):
    git = repo(tmp_path)
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    (git / "refs" / "heads" / "main").write_text(A + "\n")
    assert git_commit(tmp_path / "proj" / "pkg" / "module.py") == A


def test_packed_ref(tmp_path):
    git = repo(tmp_path)
    (git / "HEAD").write_text("ref: refs/heads/release\n")
    (git / "packed-refs").write_text(
        f"# pack-refs with: peeled fully-peeled sorted\n{B} refs/heads/release\n{A} refs/tags/v1\n"
    )
    assert git_commit(tmp_path / "proj" / "pkg") == B


def test_detached_head(tmp_path):
    git = repo(tmp_path)
    (git / "HEAD").write_text(A + "\n")
    assert git_commit(tmp_path / "proj") == A


def test_worktree_git_file(tmp_path):
    main = repo(tmp_path)
    (main / "refs" / "heads" / "feature").write_text(B + "\n")
    wt_git = main / "worktrees" / "wt"
    wt_git.mkdir(parents=True)
    (wt_git / "HEAD").write_text("ref: refs/heads/feature\n")
    (wt_git / "commondir").write_text("../..\n")
    wt = tmp_path / "wt"
    wt.mkdir()
    (wt / ".git").write_text(f"gitdir: {wt_git}\n")
    assert git_commit(wt) == B


def test_not_a_checkout_or_unborn_branch(tmp_path):
    assert git_commit(tmp_path) is None
    git = repo(tmp_path)
    (git / "HEAD").write_text("ref: refs/heads/main\n")  # no commit yet
    assert git_commit(tmp_path / "proj") is None


def test_this_checkout():
    commit = git_commit()
    assert commit is None or len(commit) == 40
