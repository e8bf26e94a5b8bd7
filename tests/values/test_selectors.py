"""values.selectors: the glob table behind the key index of the judge."""
def test_glob_table_agrees_with_fnmatch_on_the_builtin_pack_globs() -> None:
    """The needle filter only skips globs that cannot match: every (name, glob) verdict of the
    table equals fnmatchcase's, for the pack's own one-segment globs and names near them."""
    from fnmatch import fnmatchcase

    from velro_policy.policy.pack import load
    from velro_policy.values.selectors import GlobTable

    globs = sorted({s.lstrip("!").lower() for r in load(None, []).rules for s in r.select
                    if not any(c in s for c in ".[") and any(c in s for c in "*?")})
    globs += [g for g in ("a?c*", "*x*y*z", "[ab]*_key", "*") if g not in globs]
    assert len(globs) > 100
    table = GlobTable({g: [i] for i, g in enumerate(globs)})
    names = ["jwt_secret_key", "rate_limit_login", "x_rate_limit_api_v1_per_day", "cors_origins", "abc_key",
             "debug", "allowed_hosts", "password_reset_rate_limit_per_hour", "secret", "", "b_key", "axyz"]
    names += [g.replace("*", "x").replace("?", "q") for g in globs if "[" not in g]
    for name in names:
        got = {i for values in table.matching(name) for i in values}
        assert got == {i for i, g in enumerate(globs) if fnmatchcase(name, g)}, name
