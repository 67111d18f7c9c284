"""The JSON API (django-ninja): OpenAPI document at ``/api/openapi.json``, interactive docs at ``/api/docs``.

Authentication: ``POST /api/auth/token`` with ``{"username", "password"}`` returns ``{"token"}``; send it as
``Authorization: Bearer <token>``. A logged-in browser session works too. Scoping is the same as on the pages:
objects outside the caller's scope answer 404.
"""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.utils import timezone
from ninja import NinjaAPI, Schema, Status
from ninja.errors import HttpError
from ninja.security import HttpBearer, django_auth

from kejing import __version__
from kejing.core.models import ApiToken
from kejing.customers.services import CustomerError


class BearerAuth(HttpBearer):
    def authenticate(self, request, token: str):
        tok = ApiToken.objects.for_raw(token)
        if tok is None or not tok.user.is_active:
            return None
        ApiToken.objects.filter(pk=tok.pk).update(last_used_at=timezone.now())
        request.user = tok.user
        return tok.user


api = NinjaAPI(
    title="Kejing API",
    version=__version__,
    urls_namespace="api",
    auth=[BearerAuth(), django_auth],
    description="客经 Kejing — 客户经理工作平台接口 / API of the customer-manager platform.",
)


@api.exception_handler(CustomerError)
def _customer_error(request, exc: CustomerError):
    detail = exc.errors.get("__all__") or "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
    return api.create_response(request, {"detail": detail, "errors": exc.errors}, status=400)


class TokenIn(Schema):
    username: str
    password: str


class TokenOut(Schema):
    token: str


class Message(Schema):
    detail: str


@api.post(
    "/auth/token",
    auth=None,
    response={200: TokenOut, 401: Message, 403: Message, 429: Message},
    tags=["auth"],
    summary="Get a bearer token",
)
def token(request, body: TokenIn):
    user = authenticate(request, username=body.username, password=body.password)
    if getattr(request, "axes_locked_out", False):
        return Status(429, {"detail": "登录失败次数过多,请稍后再试 / too many failed attempts, try again later"})
    if user is None:
        return Status(401, {"detail": "用户名或密码错误 / wrong username or password"})
    from kejing.org.scoping import get_staff

    staff = get_staff(user)
    if staff is not None and staff.must_change_password:
        return Status(403, {"detail": "请先在网页上修改初始密码 / change your initial password on the web first"})
    _, raw = ApiToken.objects.issue(user)
    return Status(200, {"token": raw})


def not_found() -> HttpError:
    return HttpError(404, "Not Found")


from kejing.customers.api import router as customers_router  # noqa: E402
from kejing.org.api import router as org_router  # noqa: E402
from kejing.service.api import router as service_router  # noqa: E402

api.add_router("/", customers_router)
api.add_router("/", service_router)
api.add_router("/org", org_router)


def _module_routers() -> None:
    from importlib import import_module

    from django.conf import settings

    for name in settings.KEJING_MODULES:
        api.add_router(f"/{name}", import_module(f"kejing.{name}.api").router)


_module_routers()
