"""Create Cognito users of a deployed stack and put them in their role groups.

Users are created by an administrator only (the pool refuses self sign-up), with their
`custom:department` set at creation: the attribute is immutable afterwards (see
docs/decisions/0012-deployment.md). The commands are plain `aws cognito-idp` calls, so
`--dry-run` prints them as a shell script to read or run by hand.

    python -m infra.users --stack complaint-tickets agent-li --role agent --email li@example.com
    NEW_USER_PASSWORD='…' python -m infra.users --stack complaint-tickets \\
        net-zhao --role department --department network --password-env NEW_USER_PASSWORD
    python -m infra.users --stack complaint-tickets --file users.json --dry-run

users.json: [{"username": "...", "roles": ["agent"], "department": "network", "email": "..."}]

Without --password-env, Cognito e-mails a temporary password (an e-mail is then required) and
the user sets their own at first sign-in. With it, the password in that environment variable
is set as permanent (the variable's value is never printed: the script names it).
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEPARTMENTS = ROOT / "chalicelib" / "catalog" / "departments.json"
POOL = "USER_POOL_ID"


class Var(str):
    """A shell variable reference, printed unquoted-but-safe as "$NAME"."""


@dataclass
class User:
    username: str
    roles: list[str]
    department: str | None = None
    email: str | None = None
    password_env: str | None = None
    errors: list[str] = field(default_factory=list)


def validate(user: User) -> list[str]:
    from chalicelib.domain.auth import DEPARTMENT_SCOPED
    from chalicelib.domain.vocabulary import ROLES

    codes = {d["code"] for d in json.loads(DEPARTMENTS.read_text())}
    problems = []
    if not user.roles:
        problems.append(f"{user.username}: give at least one --role ({', '.join(ROLES)})")
    for role in user.roles:
        if role not in ROLES:
            problems.append(f"{user.username}: unknown role {role!r} ({', '.join(ROLES)})")
    if user.department is not None and user.department not in codes:
        problems.append(f"{user.username}: unknown department {user.department!r}")
    scoped = DEPARTMENT_SCOPED & set(user.roles)
    if scoped and user.department is None:
        problems.append(
            f"{user.username}: role {sorted(scoped)[0]} needs --department (it cannot be "
            "added later: custom:department is immutable)"
        )
    if user.password_env is None and user.email is None:
        problems.append(
            f"{user.username}: give --email (Cognito mails a temporary password) "
            "or --password-env VAR"
        )
    return problems


def _aws(region: str | None, *args: str) -> list[str]:
    return ["aws", *(["--region", region] if region else []), *args]


def commands(users: list[User], stack: str | None, pool: str | None, region: str | None) -> str:
    """The shell script that creates the users (what --dry-run prints, what a run executes)."""
    lines = ["set -euo pipefail"]
    if pool is None:
        query = "Stacks[0].Outputs[?OutputKey==`UserPoolId`].OutputValue"
        describe = _aws(region, "cloudformation", "describe-stacks", "--stack-name", stack or "")
        lines.append(f"{POOL}=$({_render([*describe, '--query', query, '--output', 'text'])})")
        pool_arg: str = Var(POOL)
    else:
        pool_arg = pool
    for user in users:
        attributes = []
        if user.department is not None:
            attributes.append(f"Name=custom:department,Value={user.department}")
        if user.email is not None:
            attributes += [f"Name=email,Value={user.email}", "Name=email_verified,Value=true"]
        create = [
            "cognito-idp",
            "admin-create-user",
            "--user-pool-id",
            pool_arg,
            "--username",
            user.username,
        ]
        if attributes:
            create += ["--user-attributes", *attributes]
        if user.password_env is not None:
            create += ["--message-action", "SUPPRESS"]
        else:
            create += ["--desired-delivery-mediums", "EMAIL"]
        lines.append(_render(_aws(region, *create)))
        if user.password_env is not None:
            password = [
                "cognito-idp",
                "admin-set-user-password",
                "--user-pool-id",
                pool_arg,
                "--username",
                user.username,
                "--password",
                Var(user.password_env),
                "--permanent",
            ]
            lines.append(_render(_aws(region, *password)))
        for role in user.roles:
            group = [
                "cognito-idp",
                "admin-add-user-to-group",
                "--user-pool-id",
                pool_arg,
                "--username",
                user.username,
                "--group-name",
                role,
            ]
            lines.append(_render(_aws(region, *group)))
    return "\n".join(lines) + "\n"


def _render(argv: list[str]) -> str:
    return " ".join(f'"${a}"' if isinstance(a, Var) else shlex.quote(a) for a in argv)


def _users(args: argparse.Namespace) -> list[User]:
    users = []
    if args.file:
        for entry in json.loads(Path(args.file).read_text()):
            users.append(
                User(
                    username=entry["username"],
                    roles=list(entry.get("roles", [])),
                    department=entry.get("department"),
                    email=entry.get("email"),
                    password_env=args.password_env,
                )
            )
    if args.username:
        users.append(
            User(args.username, args.role or [], args.department, args.email, args.password_env)
        )
    return users


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join((__doc__ or "").splitlines()[1:]),
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--stack", help="stack name: the pool is its UserPoolId output")
    where.add_argument("--user-pool-id", help="the user pool, if known")
    parser.add_argument("--region", help="AWS region (default: the AWS CLI's)")
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    parser.add_argument("--file", help="JSON list of users (username, roles, department, email)")
    parser.add_argument("username", nargs="?", help="one user to create")
    parser.add_argument("--role", action="append", help="a group to join (repeatable)")
    parser.add_argument("--department", help="custom:department (departments.json code)")
    parser.add_argument("--email", help="the user's e-mail (verified; gets the temporary password)")
    parser.add_argument(
        "--password-env", help="environment variable holding a permanent password to set"
    )
    args = parser.parse_args(argv)
    users = _users(args)
    if not users:
        parser.error("name a user (USERNAME --role ROLE …) or give --file")
    problems = [p for u in users for p in validate(u)]
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        return 2
    script = commands(users, args.stack, args.user_pool_id, args.region)
    if args.dry_run:
        print(script, end="")
        return 0
    if shutil.which("aws") is None:
        print("the AWS CLI (aws) is not installed; --dry-run prints the commands", file=sys.stderr)
        return 2
    return subprocess.run(["bash", "-c", script], check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
