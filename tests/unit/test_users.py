"""infra/users.py: the dry run prints the aws cognito-idp commands that create users."""

from __future__ import annotations

import json
import shlex
import subprocess

import pytest

from infra import users


def _run(capsys, *argv: str) -> tuple[int, list[list[str]], str]:
    code = users.main(list(argv))
    out, err = capsys.readouterr()
    return code, [shlex.split(line) for line in out.splitlines()], err


def test_a_department_user_with_a_password_dry_run(capsys) -> None:
    code, lines, _ = _run(
        capsys,
        "--stack",
        "complaint-tickets",
        "--dry-run",
        "net-zhao",
        "--role",
        "department",
        "--role",
        "auditor",
        "--department",
        "network",
        "--password-env",
        "NEW_USER_PASSWORD",
    )
    assert code == 0
    assert lines[0] == ["set", "-euo", "pipefail"]
    # the pool is the stack's UserPoolId output
    assert lines[1][:3] == ["USER_POOL_ID=$(aws", "cloudformation", "describe-stacks"]
    assert "complaint-tickets" in lines[1] and "OutputKey==`UserPoolId`" in " ".join(lines[1])
    pool = ["--user-pool-id", "$USER_POOL_ID"]
    assert lines[2] == [
        "aws",
        "cognito-idp",
        "admin-create-user",
        *pool,
        "--username",
        "net-zhao",
        "--user-attributes",
        "Name=custom:department,Value=network",
        "--message-action",
        "SUPPRESS",
    ]
    assert lines[3] == [
        "aws",
        "cognito-idp",
        "admin-set-user-password",
        *pool,
        "--username",
        "net-zhao",
        "--password",
        "$NEW_USER_PASSWORD",
        "--permanent",
    ]
    group = ["aws", "cognito-idp", "admin-add-user-to-group"]
    assert lines[4:] == [
        [*group, *pool, "--username", "net-zhao", "--group-name", role]
        for role in ("department", "auditor")
    ]


def test_a_file_of_users_with_mailed_passwords_and_a_known_pool(tmp_path, capsys) -> None:
    listing = tmp_path / "users.json"
    listing.write_text(
        json.dumps(
            [
                {"username": "agent-li", "roles": ["agent"], "email": "li@example.com"},
                {
                    "username": "crc-admin",
                    "roles": ["complaint_admin"],
                    "department": "crc",
                    "email": "admin@example.com",
                },
            ]
        )
    )
    argv = ["--user-pool-id", "us-east-1_abc", "--region", "eu-west-1", "--file", str(listing)]
    code, lines, _ = _run(capsys, *argv, "--dry-run")
    assert code == 0 and len(lines) == 5
    create_li, group_li, create_admin, group_admin = lines[1:]
    assert create_li[:3] == ["aws", "--region", "eu-west-1"]
    assert create_li[create_li.index("--user-pool-id") + 1] == "us-east-1_abc"
    assert "Name=email,Value=li@example.com" in create_li
    assert "Name=email_verified,Value=true" in create_li
    assert not any("custom:department" in a for a in create_li)
    assert create_li[-2:] == ["--desired-delivery-mediums", "EMAIL"]
    assert group_li[-2:] == ["--group-name", "agent"]
    assert "Name=custom:department,Value=crc" in create_admin
    assert group_admin[-2:] == ["--group-name", "complaint_admin"]


def test_the_printed_script_is_valid_shell(capsys) -> None:
    users.main(["--stack", "s", "--dry-run", "o'brien", "--role", "agent", "--email", "o@x.cn"])
    script = capsys.readouterr().out
    assert subprocess.run(["bash", "-n"], input=script, text=True).returncode == 0
    assert "--username 'o'\"'\"'brien'" in script


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["x", "--role", "department", "--email", "x@y.z"], "needs --department"),
        (["x", "--role", "complaint_admin", "--email", "x@y.z"], "needs --department"),
        (["x", "--role", "boss", "--email", "x@y.z"], "unknown role 'boss'"),
        (["x", "--role", "agent", "--department", "nowhere", "--email", "x@y.z"], "unknown dep"),
        (["x", "--role", "agent"], "give --email"),
        (["x", "--email", "x@y.z"], "at least one --role"),
    ],
)
def test_bad_users_are_refused_before_any_command(capsys, argv, message) -> None:
    code, lines, err = _run(capsys, "--stack", "s", "--dry-run", *argv)
    assert code == 2 and lines == [] and message in err
