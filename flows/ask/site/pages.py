"""The site's HTML: search, results with footprints, cart, sign-in forms. Plain server-side pages (forms, no
script), so that they work in any browser and a test reads them as a person would."""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from flows.storage import properties as prop

PAGE_SIZE = 20
STYLE = ("body{font-family:sans-serif;margin:1.5em;max-width:70em}table{border-collapse:collapse}"
         "td,th{padding:.25em .6em;border-bottom:1px solid #ddd;text-align:left}.note{color:#555}"
         ".error{color:#a00}svg{background:#eef;border:1px solid #ccd}nav a{margin-right:1em}")


def page(*, title: str, body: str, account: str | None, message: str = "") -> str:
    """A whole page: navigation (who is signed in), an optional one-line message, the body."""
    if account:
        who = (f"signed in as <b id='account'>{escape(account)}</b> <a href='/site/cart'>cart</a>"
               "<form method='post' action='/site/signout' style='display:inline'>"
               "<button id='signout'>sign out</button></form>")
    else:
        who = "<a href='/site/signin'>sign in</a> <a href='/site/register'>register</a>"
    note = f"<p class='error' id='message'>{escape(message)}</p>" if message else ""
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)} - snowland</title>"
            f"<style>{STYLE}</style></head><body><nav><a href='/site/'>search</a> <a href='/products'>catalogue</a>"
            f" {who}</nav><h1>{escape(title)}</h1>{note}{body}</body></html>")


def account_form(*, action: str, button: str) -> str:
    return (f"<form method='post' action='{action}'><p><label>e-mail <input name='email' id='email' type='email' "
            "required></label></p><p><label>password <input name='password' id='password' type='password' "
            f"required></label></p><p><button id='submit'>{escape(button)}</button></p></form>")


def search_form(text: str) -> str:
    return (f"<form method='get' action='/site/'><input name='q' id='q' size='50' value='{escape(text)}' "
            "placeholder='neige Pyrénées mars 2024, Toulouse LANDSAT8 2014 ...'> <button id='search'>search</button>"
            "</form>")


def footprint_svg(dataset, *, size: int = 90) -> str:
    """The dataset's footprint (longitude, latitude) drawn in a small box with a margin around it."""
    extent = dataset.extent
    if extent is None:
        return ""
    shape = extent.to_crs("EPSG:4326").geom
    polygons = [shape] if shape.geom_type == "Polygon" else list(getattr(shape, "geoms", []))
    x0, y0, x1, y1 = shape.bounds
    span = max(x1 - x0, y1 - y0) * 1.4 or 1.0
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    paths = []
    for poly in polygons:
        points = " ".join(f"{(x - cx) / span * size + size / 2:.1f},{(cy - y) / span * size + size / 2:.1f}"
                          for x, y in poly.exterior.coords)
        paths.append(f"<polygon points='{points}' fill='#7ab' stroke='#135'/>")
    return (f"<svg width='{size}' height='{size}' class='footprint'><title>{x0:.3f}, {y0:.3f} to {x1:.3f}, "
            f"{y1:.3f}</title>{''.join(paths)}</svg>")


def results(*, result, text: str, number: int, in_cart: set[str], signed_in: bool) -> str:
    """The query's reading and one page of its datasets, each with its add (or remove) button."""
    found = result.datasets
    shown = found[number * PAGE_SIZE:(number + 1) * PAGE_SIZE]
    lines = [f"<p class='note' id='reading'>{escape(line)}</p>" for line in result.query.describe().splitlines()]
    lines.append(f"<p id='count'>{len(found)} dataset(s) in {escape(', '.join(result.products) or 'no product')}</p>")
    rows = [("<tr><th>product</th><th>date</th><th>sensor</th><th>cloud %</th><th>snow %</th><th>quick-look</th>"
             "<th>footprint</th><th>name</th><th></th></tr>")]
    for ds in shown:
        props = ds.metadata_doc.get("properties", {})
        cloud = props.get(prop.CLOUD_PERCENT, props.get("eo:cloud_cover", ""))
        snow = props.get(prop.SNOW_PERCENT, "")
        dataset_id = str(ds.id)
        if not signed_in:
            action = ""
        elif dataset_id in in_cart:
            action = _cart_button("remove", dataset_id, "remove from cart", back=_here(text, number))
        else:
            action = _cart_button("add", dataset_id, "add to cart", back=_here(text, number))
        rows.append(f"<tr class='result' data-id='{dataset_id}'><td>{escape(ds.product.name)}</td>"
                    f"<td>{str(ds.center_time)[:10]}</td><td>{escape(str(props.get('eo:platform', '')))}</td>"
                    f"<td>{_number(cloud)}</td><td>{_number(snow)}</td><td><img class='quicklook' loading='lazy' alt='' "
                    f"src='/site/thumbnail/{dataset_id}'></td><td>{footprint_svg(ds)}</td>"
                    f"<td><a href='/dataset/{dataset_id}'>{escape(str(ds.metadata_doc.get('label', dataset_id)))}"
                    f"</a></td><td>{action}</td></tr>")
    pages = []
    if number > 0:
        pages.append(f"<a id='previous' href='{_here(text, number - 1)}'>previous</a>")
    if (number + 1) * PAGE_SIZE < len(found):
        pages.append(f"<a id='next' href='{_here(text, number + 1)}'>next</a>")
    return "".join(lines) + f"<table>{''.join(rows)}</table><p>{' '.join(pages)}</p>"


def cart(datasets: list, *, missing: int) -> str:
    rows = [f"<tr class='item' data-id='{ds.id}'><td>{escape(ds.product.name)}</td><td>{str(ds.center_time)[:10]}</td>"
            f"<td>{escape(str(ds.metadata_doc.get('label', ds.id)))}</td>"
            f"<td>{_cart_button('remove', str(ds.id), 'remove', back='/site/cart')}</td></tr>" for ds in datasets]
    gone = f"<p class='note'>{missing} dataset(s) of the cart are no longer in the catalogue.</p>" if missing else ""
    order = ("<form method='post' action='/site/order'><button id='order'>order (Metalink)</button></form>"
             if datasets else "<p>The cart is empty: search and add products.</p>")
    return f"<p id='cart-count'>{len(datasets)} product(s)</p><table>{''.join(rows)}</table>{gone}{order}"


def _cart_button(verb: str, dataset_id: str, label: str, *, back: str) -> str:
    return (f"<form method='post' action='/site/cart/{verb}' style='display:inline'>"
            f"<input type='hidden' name='dataset' value='{dataset_id}'><input type='hidden' name='back' "
            f"value='{escape(back)}'><button class='{verb}'>{escape(label)}</button></form>")


def _here(text: str, number: int) -> str:
    return "/site/?" + urlencode({"q": text, "page": number} if number else {"q": text})


def _number(value) -> str:
    return f"{value:.1f}" if isinstance(value, int | float) else escape(str(value))
