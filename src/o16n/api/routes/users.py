"""o16n: the accounts over HTTP (ML Server had no such API), for Owners only. The same use
cases as `o16n users …`; an Owner may not delete or demote their own account."""

from __future__ import annotations

from http import HTTPStatus

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from o16n.api.body import read_model
from o16n.api.operation import ArrayOf, Call, Operation
from o16n.api.responses import JSONResponse
from o16n.api.schemas import CreateUserRequest, RoleName, UpdateUserRequest, UserInfo
from o16n.auth.roles import Action
from o16n.domain.accounts import Keep
from o16n.domain.models import Role, User
from o16n.ids import wire_timestamp

_TAG = "Users"
_ONE = "/users/{username}"


def _info(user: User) -> dict[str, object]:
    source = "local" if user.directory_id is None else "ldap"
    role = user.role.value if user.role else None
    return UserInfo(
        username=user.username, role=role, source=source, created=wire_timestamp(user.created_at)
    ).model_dump()


def _role(name: RoleName | None) -> Role | None:
    return None if name is None else Role(name)


async def list_users(call: Call) -> Response:
    """Every account, by name."""
    users = await run_in_threadpool(call.services.accounts.users)
    return JSONResponse([_info(user) for user in users])


async def create_user(call: Call) -> Response:
    """A new local account."""
    request = await read_model(call.request, CreateUserRequest, call.services.limits.json_bytes)
    accounts = call.services.accounts
    user = await run_in_threadpool(
        accounts.add_user, request.username, request.password, _role(request.role)
    )
    return JSONResponse(_info(user), status_code=HTTPStatus.CREATED)


async def update_user(call: Call) -> Response:
    """Another role and/or password; a new password signs the account out everywhere."""
    request = await read_model(call.request, UpdateUserRequest, call.services.limits.json_bytes)
    username = call.request.path_params["username"]
    role = _role(request.role) if "role" in request.model_fields_set else Keep.ROLE
    user = await run_in_threadpool(
        lambda: call.services.accounts.update_user(
            username, role=role, password=request.password, by=call.user.user_id
        )
    )
    return JSONResponse(_info(user))


async def delete_user(call: Call) -> Response:
    """Delete an account; its tokens stop working."""
    username = call.request.path_params["username"]
    accounts = call.services.accounts
    await run_in_threadpool(lambda: accounts.remove_user(username, by=call.user.user_id))
    return Response(status_code=HTTPStatus.NO_CONTENT)


OPERATIONS = (
    Operation(
        "GET",
        "/users",
        "listUsers",
        "Lists the accounts (o16n; Owners only)",
        _TAG,
        list_users,
        Action.MANAGE_USERS,
        response=ArrayOf(UserInfo),
    ),
    Operation(
        "POST",
        "/users",
        "createUser",
        "Creates a local account (o16n; Owners only)",
        _TAG,
        create_user,
        Action.MANAGE_USERS,
        success=HTTPStatus.CREATED,
        body=CreateUserRequest,
        response=UserInfo,
    ),
    Operation(
        "PATCH",
        _ONE,
        "updateUser",
        "Changes an account's role and/or password (o16n; Owners only)",
        _TAG,
        update_user,
        Action.MANAGE_USERS,
        body=UpdateUserRequest,
        response=UserInfo,
        description="A new password revokes the account's tokens. An Owner may not demote"
        " their own account (409).",
    ),
    Operation(
        "DELETE",
        _ONE,
        "deleteUser",
        "Deletes an account (o16n; Owners only)",
        _TAG,
        delete_user,
        Action.MANAGE_USERS,
        success=HTTPStatus.NO_CONTENT,
        description="Its tokens stop working. An Owner may not delete their own account (409).",
    ),
)
