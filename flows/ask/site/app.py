"""The site's WSGI layer around explorer: files (for signed-in users or signed links), STAC answers with served
URLs, and the pages under ``/site/`` (search, cart, order, accounts); everything else goes to explorer."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

from werkzeug.utils import redirect, send_file
from werkzeug.wrappers import Request, Response

from flows.ask.site import pages, stac
from flows.ask.site.accounts import AccountError, Accounts, Throttle
from flows.ask.site.files import PREFIX, Checksums, dataset_file, signed_link
from flows.ask.site.signing import SESSION_SECONDS, Signer
from products.errors import SnowlandError

FILE_METHODS = ("GET", "HEAD")
COOKIE = "snowland_session"
METALINK_TYPE = "application/metalink4+xml"
LOCATED_MAX = 100_000


class Site:
    """Explorer's app with the site around it; ``dc`` opens the (read-only) index, ``accounts`` the site's schema."""

    def __init__(self, *, explorer: Callable, dc: Callable, accounts: Callable[[], Accounts], signer: Signer) -> None:
        self.explorer = explorer
        self._dc = dc
        self._accounts = accounts
        self.signer = signer
        self.checksums = Checksums()
        self.throttle = Throttle()
        self._located: dict[tuple[str, str], Path] = {}  # a range reader asks for one file many times

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith(PREFIX):
            answer = self._file(Request(environ))
        elif path == "/stac" or path.startswith("/stac/"):
            answer = self._stac(environ)
        elif path == "/site" or path.startswith("/site/"):
            answer = self._page(Request(environ))
        else:
            return self.explorer(environ, start_response)
        return answer(environ, start_response)

    def _account(self, request: Request) -> int | None:
        cookie = request.cookies.get(COOKIE)
        return self.signer.account_of(cookie) if cookie else None

    def _file(self, request: Request) -> Response:
        if request.method not in FILE_METHODS:
            return _refuse(405, f"{request.method} is not allowed on files: only GET and HEAD",
                           headers={"Allow": ", ".join(FILE_METHODS)})
        if "sig" in request.args or "expires" in request.args:
            problem = self.signer.link_problem(request.path, expires=request.args.get("expires", ""),
                                               sig=request.args.get("sig", ""))
            if problem:
                return _refuse(403, problem)
        elif self._account(request) is None:
            return _refuse(401, "downloads are for signed-in users (/site/signin) or signed links of an order")
        dataset_id, _, name = request.path[len(PREFIX):].partition("/")
        path = self._located.get((dataset_id, name))
        if path is None or not path.is_file():
            path = dataset_file(self._dc(), dataset_id=dataset_id, name=name)
            if path is not None and len(self._located) < LOCATED_MAX:
                self._located[(dataset_id, name)] = path
        if path is None:
            return _refuse(404, f"no file {name!r} in dataset {dataset_id!r}")
        return send_file(path, request.environ, conditional=True, etag=True, max_age=0)

    def _stac(self, environ) -> Response:
        answer = Response.from_app(self.explorer, environ, buffered=True)
        if answer.status_code != 200 or "json" not in (answer.mimetype or ""):
            return answer
        document = stac.rewrite(json.loads(answer.get_data()), base=Request(environ).host_url,
                                facts=self.checksums.facts)
        answer.set_data(json.dumps(document))
        return answer

    def _page(self, request: Request) -> Response:
        route = request.path.removeprefix("/site").strip("/")
        account = self._account(request)
        if route in ("register", "signin"):
            return self._sign(request, route)
        if route == "signout":
            answer = redirect("/site/", 303)
            answer.delete_cookie(COOKIE, path="/")
            return answer
        if route == "":
            return self._search(request, account)
        if route.startswith("thumbnail/"):
            return self._thumbnail(route.removeprefix("thumbnail/"))
        if account is None:
            return self._html("sign in", pages.account_form(action="/site/signin", button="sign in"), None,
                              message="sign in to use a cart", status=401)
        if route == "cart":
            return redirect(f"/site/carts/{account}", 303)
        if route.startswith("carts/"):
            if route.removeprefix("carts/") != str(account):
                return self._html("cart", "", account, message="this cart belongs to another account", status=403)
            return self._cart(account)
        if route in ("cart/add", "cart/remove") and request.method == "POST":
            dataset = request.form.get("dataset", "")
            if not _is_uuid(dataset) or self._dc().index.datasets.get(dataset) is None:
                return self._html("cart", "", account, message=f"no dataset {dataset!r}", status=404)
            (self._accounts().add if route == "cart/add" else self._accounts().remove)(account, dataset)
            back = request.form.get("back", "/site/")
            return redirect(back if back.startswith("/site/") else "/site/", 303)
        if route == "order" and request.method == "POST":
            return self._order(request, account)
        return self._html("not found", "", account, message=f"no page {request.path}", status=404)

    def _html(self, title: str, body: str, account: int | None, *, message: str = "", status: int = 200) -> Response:
        email = self._accounts().email(account) if account is not None else None
        return Response(pages.page(title=title, body=body, account=email, message=message), status=status,
                        mimetype="text/html")

    def _sign(self, request: Request, route: str) -> Response:
        button = "register" if route == "register" else "sign in"
        form = pages.account_form(action=f"/site/{route}", button=button)
        if request.method != "POST":
            return self._html(button, form, None)
        email, password = request.form.get("email", "").strip().lower(), request.form.get("password", "")
        if route == "register":
            try:
                self._accounts().register(email=email, password=password)
            except AccountError as err:
                return self._html(button, form, None, message=str(err), status=400)
            return self._html("sign in", pages.account_form(action="/site/signin", button="sign in"), None,
                              message=f"account made for {email}: sign in")
        wait = self.throttle.wait(email)
        if wait > 0:
            return self._html(button, form, None, status=429,
                              message=f"too many wrong passwords for {email}: try again in {wait:.0f} s")
        account = self._accounts().check(email=email, password=password)
        if account is None:
            self.throttle.failed(email)
            return self._html(button, form, None, message="wrong e-mail or password", status=401)
        self.throttle.succeeded(email)
        answer = redirect("/site/", 303)
        answer.set_cookie(COOKIE, self.signer.session(account), max_age=SESSION_SECONDS, path="/", httponly=True,
                          samesite="Lax", secure=request.is_secure)
        return answer

    def _search(self, request: Request, account: int | None) -> Response:
        from flows.ask.catalogue import search

        text = request.args.get("q", "").strip()
        body = pages.search_form(text)
        if text:
            number = int(request.args["page"]) if request.args.get("page", "").isdigit() else 0
            in_cart = set(self._accounts().cart(account)) if account is not None else set()
            try:
                result = search(text, dc=self._dc())
            except SnowlandError as err:
                return self._html("search", body, account, message=str(err), status=400)
            body += pages.results(result=result, text=text, number=number, in_cart=in_cart,
                                  signed_in=account is not None)
        return self._html("search", body, account)

    def _thumbnail(self, dataset_id: str) -> Response:
        """The quick-look of a dataset's first measurement (public: a picture of a few dozen pixels)."""
        from flows.ask.catalogue import dataset_files
        from flows.ask.site.files import local_path
        from flows.ask.site.thumbnail import thumbnail_png

        dataset = self._dc().index.datasets.get(dataset_id) if _is_uuid(dataset_id) else None
        first = next(iter(dataset_files(dataset).values()), "") if dataset is not None else ""
        path = local_path(first)
        if path is None or not path.is_file():
            return _refuse(404, f"no quick-look for dataset {dataset_id!r}")
        return Response(thumbnail_png(path), mimetype="image/png", headers={"Cache-Control": "max-age=3600"})

    def _datasets(self, account: int) -> tuple[list, int]:
        ids = self._accounts().cart(account)
        found = [ds for ds in (self._dc().index.datasets.get(i) for i in ids) if ds is not None]
        return found, len(ids) - len(found)

    def _cart(self, account: int) -> Response:
        datasets, missing = self._datasets(account)
        return self._html("cart", pages.cart(datasets, missing=missing), account)

    def _order(self, request: Request, account: int) -> Response:
        from flows.ask.catalogue import metalink

        datasets, _ = self._datasets(account)
        if not datasets:
            return self._html("cart", "", account, message="the cart is empty: nothing to order", status=400)

        document = metalink(datasets, link=signed_link(base=request.host_url, signer=self.signer),
                            sha256=lambda path: self.checksums.facts(path).sha256)
        return Response(document, mimetype=METALINK_TYPE,
                        headers={"Content-Disposition": "attachment; filename=snowland-order.meta4"})


def _is_uuid(text: str) -> bool:
    import uuid

    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _refuse(status: int, message: str, *, headers: dict | None = None) -> Response:
    """A 4xx with its one-line reason, as text."""
    return Response(message + "\n", status=status, mimetype="text/plain", headers=headers)


def _lazy(make: Callable) -> Callable:
    """``make()`` once, on first use, shared by the server's threads."""
    lock = threading.Lock()
    made: list = []

    def get():
        with lock:
            if not made:
                made.append(make())
            return made[0]

    return get


def mount(explorer: Callable) -> Site:
    """The site around explorer's app: the catalogue through this process's ``ODC_*`` environment (the read-only
    role), accounts and carts through the site's role, links and sessions signed with the site's key."""
    from flows.ask.site.signing import site_key
    from odc_config.settings import load_settings

    settings = load_settings()

    def dc():
        import datacube

        return datacube.Datacube(app="snowland-site")

    def accounts():
        from sqlalchemy import create_engine

        engine = create_engine(settings.role_url("site"), pool_pre_ping=True,
                               connect_args={"options": "-c default_transaction_read_only=off"})
        return Accounts(engine)

    return Site(explorer=explorer, dc=_lazy(dc), accounts=_lazy(accounts),
                signer=Signer(key=site_key(settings.state_dir / "site")))
